#!/usr/bin/env python3
"""Sort the samples of two CPU profiles (kube-apiserver's, from -apiserver-profile) into
categories by the first rule whose pattern a sample's stack matches, and print both sides'
seconds per category.

Usage: go tool pprof -traces DIR/floor/apiserver-cpu.pb.gz > floor.traces
       go tool pprof -traces DIR/landlord/apiserver-cpu.pb.gz > landlord.traces
       pprof-categories.py floor.traces landlord.traces
"""
import sys,re,collections
# category: first matching rule over the whole stack (order matters: most specific first)
rules=[
 ('GC and memory (background)', r'^runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)'),
 ('watch: send events to watchers (encode, write)', r'cacheWatcher|watchServer|WatchServer|serveWatch|\(\*watchCache\)|cacher\.\(\*Cacher\)\.dispatch|Cacher\)\.processEvent|Cacher\)\.dispatchEvent'),
 ('etcd watch: decode events into the watch cache', r'etcd3\.\(\*watchChan\)|etcd3\.decodeObj'),
 ('server-side apply / managedFields', r'fieldmanager|structured-merge-diff|managedfields'),
 ('admission (incl. validating admission policies, CEL)', r'k8s\.io/apiserver/pkg/admission|validatingadmissionpolicy|pkg/cel|cel-go'),
 ('authentication / authorization', r'authenticat|authoriz|rbac'),
 ('CRD: conversion, defaulting, validation, pruning', r'apiextensions-apiserver/pkg/apiserver/(conversion|schema)|structuralschema|apiextensions-apiserver/pkg/apiserver/validation|apiextensions-apiserver/pkg/registry|pkg/apiserver/schema'),
 ('etcd client (grpc)', r'go\.etcd\.io/etcd/client|google\.golang\.org/grpc'),
 ('request handling: create/update/patch storage path', r'registry/generic/registry|endpoints/handlers'),
 ('HTTP/2, TLS', r'golang\.org/x/net/http2|net/http|crypto/tls'),
 ('controllers inside kube-apiserver', r'k8s\.io/kubernetes/pkg/controlplane|apiserver/pkg/util/flowcontrol|storageversion|k8s\.io/kubernetes/pkg/registry'),
]
rules=[(n,re.compile(r)) for n,r in rules]
def parse(path):
    tot=collections.Counter(); total=0
    stack=[];val=0
    def flush():
        nonlocal total
        if not stack: return
        total_add=val
        s='\n'.join(stack)
        for n,r in rules:
            if r.search(s): tot[n]+=val; break
        else: tot['other']+=val
    with open(path) as f:
        for line in f:
            if line.startswith('-----------+'):
                flush(); stack=[]; val=0; continue
            m=re.match(r'^\s+([\d.]+)(ms|s)\s+(\S+)',line)
            if m:
                val=float(m.group(1))*(0.001 if m.group(2)=='ms' else 1); stack=[m.group(3)]; continue
            if stack: stack.append(line.strip())
        flush()
    return tot
a=parse(sys.argv[1]); b=parse(sys.argv[2])
ta,tb=sum(a.values()),sum(b.values())
print('%-55s %8s %8s %8s'%('category','floor s','landlord s','diff'))
for n in sorted(set(a)|set(b), key=lambda n:-(b[n]-a[n])):
    print('%-55s %8.2f %8.2f %+8.2f'%(n,a[n],b[n],b[n]-a[n]))
print('%-55s %8.2f %8.2f %+8.2f'%('total',ta,tb,tb-ta))
