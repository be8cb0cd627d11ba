#!/usr/bin/env python3
"""What each of the manager's status writes changed, from an audit log written
with `make bench BENCH_ARGS='-audit-status-bodies -work DIR'` (DIR/landlord/audit.log).

Usage: status-writes.py AUDIT_LOG [UNTIL]   (UNTIL: an RFC 3339 time; later writes are left out,
e.g. the expiry burst's)

Each object's status merge patches are merged in order; each write is printed as what it
changed from the state before it ("FIRST" for the first, "NOTHING" for a write that restated
the last state). Prints the sequences and how many objects of each kind had each one.
"""
import json,sys,collections
def merge(a,p):
    if not isinstance(p,dict): return p
    a=dict(a) if isinstance(a,dict) else {}
    for k,v in p.items():
        if v is None: a.pop(k,None)
        else: a[k]=merge(a.get(k),v)
    return a
seqs=collections.defaultdict(list)
for line in open(sys.argv[1]):
    e=json.loads(line)
    if e.get('stage')!='ResponseComplete' or 'requestObject' not in e: continue
    o=e['objectRef']
    if o.get('subresource')!='status': continue
    seqs[(o['resource'],o.get('namespace'),o['name'])].append((e['requestReceivedTimestamp'],e['requestObject'],e['responseStatus'].get('code')))
def summarize(st):
    s=st.get('status',{})
    out=[]
    for k in sorted(s):
        if k=='conditions':
            out.append('conds['+','.join('%s=%s/%s'%(c['type'],c['status'],c.get('reason')) for c in s[k])+']')
        elif k in ('phase',):
            out.append('phase=%s'%s[k])
        elif k in ('subscriptions','members'):
            out.append('%s=%s'%(k,json.dumps(s[k],sort_keys=True)))
        else: out.append(k)
    return ' '.join(out)
def changed(a,b):
    sa,sb=a.get('status',{}),b.get('status',{})
    ch=[]
    for k in sorted(set(sa)|set(sb)):
        if sa.get(k)!=sb.get(k):
            if k=='conditions':
                ca={c['type']:c for c in sa.get(k,[])}; cb={c['type']:c for c in sb.get(k,[])}
                for t in sorted(set(ca)|set(cb)):
                    x,y=ca.get(t,{}),cb.get(t,{})
                    if x!=y:
                        d=[f for f in ('status','reason','message','observedGeneration','lastTransitionTime') if x.get(f)!=y.get(f)]
                        ch.append('%s:%s(%s->%s/%s)'%(t,'+'.join(d),x.get('reason'),y.get('status'),y.get('reason')))
            elif k in('phase',): ch.append('phase->%s'%sb.get(k))
            elif k in ('subscriptions','members'): ch.append('%s->%s'%(k,json.dumps(sb.get(k),sort_keys=True)))
            else: ch.append(k)
    return ' '.join(ch) or 'NOTHING'
byres=collections.defaultdict(collections.Counter)
for key,seq in seqs.items():
    seq.sort(key=lambda x:x[0])
    st={}; sig=[]
    for ts,body,code in seq:
        new=merge(st,body) if code and code<300 else st
        if len(sys.argv)>2 and ts>=sys.argv[2]: break
        sig.append(('FIRST' if not st else changed(st,new)) if code and code<300 else 'FAILED %s'%code)
        st=new
    byres[key[0]][' | '.join(sig)]+=1
for r,c in byres.items():
    print('==',r,'objects',sum(c.values()))
    for sig,n in c.most_common(12): print('%6d  %s'%(n,sig))
