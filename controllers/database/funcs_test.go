package database

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

func dbAt(name string, sec int) v1.Database {
	return v1.Database{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(name),
		CreationTimestamp: metav1.NewTime(time.Unix(int64(sec), 0))}}
}

func TestGate(t *testing.T) {
	a, b, c := dbAt("a", 1), dbAt("b", 2), dbAt("c", 3)
	sibs := []v1.Database{a, b, c}
	for _, tc := range []struct {
		name  string
		self  v1.Database
		slots []Slot
		limit int32
		want  Decision
	}{
		{"first of three, two free slots: try them", a, nil, 2, Decision{Try: []int32{0, 1}}},
		{"second of three: one ahead, two free: try", b, nil, 2, Decision{Try: []int32{0, 1}}},
		{"third of three: two ahead, two free: wait", c, nil, 2, Decision{}},
		{"second once the first holds one: nobody ahead, one free: try", b, []Slot{{0, "a"}}, 2, Decision{Try: []int32{1}, InUse: 1}},
		{"third once the first holds one: the second is ahead for the one free slot: wait", c, []Slot{{0, "a"}}, 2, Decision{InUse: 1}},
		{"full: wait", c, []Slot{{0, "a"}, {1, "b"}}, 2, Decision{InUse: 2}},
		{"holds one: keeps it", b, []Slot{{0, "a"}, {1, "b"}}, 2, Decision{Held: []int32{1}, InUse: 2}},
		{"downgraded: keeps its slot above the limit, moves down when one frees", b, []Slot{{1, "b"}}, 1, Decision{Held: []int32{1}, Try: []int32{0}, InUse: 1}},
		{"someone above the limit: nobody new", c, []Slot{{1, "b"}}, 2, Decision{InUse: 1}},
		{"limit 0: never", a, nil, 0, Decision{}},
	} {
		if got := Gate(&tc.self, sibs, tc.slots, tc.limit); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestDeletionFate(t *testing.T) {
	now := metav1.Now()
	acct := &v1.Account{}
	deletingAcct := &v1.Account{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}
	sub := func(phase v1.SubscriptionPhase, policy v1.DeletionPolicy, deleting bool) *v1.Subscription {
		s := &v1.Subscription{Spec: v1.SubscriptionSpec{DeletionPolicy: policy}, Status: v1.SubscriptionStatus{Phase: phase}}
		if deleting {
			s.DeletionTimestamp = &now
		}
		return s
	}
	for _, tc := range []struct {
		name       string
		acct       *v1.Account
		sub        *v1.Subscription
		registered string
		want       Fate
	}{
		{"a tenant deletes it from a live site", acct, sub(v1.PhaseActive, v1.DeletionPolicyRetain, false), "Retain", FateDrop},
		{"a suspended site's, deleted by the tenant", acct, sub(v1.PhaseSuspended, v1.DeletionPolicyRetain, false), "Retain", FateDrop},
		{"termination, Delete", acct, sub(v1.PhaseTerminated, v1.DeletionPolicyDelete, false), "Delete", FateDrop},
		{"termination, Retain", acct, sub(v1.PhaseTerminated, v1.DeletionPolicyRetain, false), "Retain", FateRetain},
		{"the Subscription deleted, Retain", acct, sub(v1.PhaseActive, v1.DeletionPolicyRetain, true), "Retain", FateRetain},
		{"the Subscription gone: the registry's policy", acct, nil, "Retain", FateRetain},
		{"the Subscription gone, Delete recorded", acct, nil, "Delete", FateDrop},
		{"the account being deleted: drop, even Retain", deletingAcct, sub(v1.PhaseTerminated, v1.DeletionPolicyRetain, true), "Retain", FateDrop},
		{"the account gone", nil, nil, "Retain", FateDrop},
	} {
		if got := DeletionFate(tc.acct, tc.sub, tc.registered); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBuildSecret(t *testing.T) {
	cfg := platform.Default()
	cfg.DatabaseHost, cfg.DatabaseSiteHost, cfg.DatabasePort = "10.0.0.5", "mysql.provider.example", 3307
	db := &v1.Database{ObjectMeta: metav1.ObjectMeta{Namespace: "acct-a--www", Name: "shop", UID: "u1"}}
	s := BuildSecret(cfg, db, "a", "www", "abcdef_shop", "pw")
	want := map[string]string{"host": "mysql.provider.example", "port": "3307", "address": "mysql.provider.example:3307",
		"database": "abcdef_shop", "username": "abcdef_shop", "password": "pw"}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("%s = %q, want %q", k, s.Data[k], v)
		}
	}
	if s.Name != "shop-mysql" || !metav1.IsControlledBy(s, db) || s.Labels[v1.ManagedByLabel] != v1.ManagedByValue || s.Labels[v1.SubscriptionLabel] != "www" {
		t.Errorf("metadata %+v", s.ObjectMeta)
	}
}

func TestLimit(t *testing.T) {
	plan := &v1.Plan{Spec: v1.PlanSpec{Limits: v1.Limits{Databases: ptr.To[int32](3)}}}
	withEffective := &v1.Subscription{Status: v1.SubscriptionStatus{EffectiveLimits: v1.Limits{Databases: ptr.To[int32](2)}}}
	if got := Limit(withEffective, plan); got != 2 {
		t.Errorf("effective limits win: %d", got)
	}
	if got := Limit(&v1.Subscription{}, plan); got != 3 {
		t.Errorf("else the plan's: %d", got)
	}
	if got := Limit(&v1.Subscription{}, nil); got != 0 {
		t.Errorf("else none: %d", got)
	}
}

func TestSizeMoved(t *testing.T) {
	if !sizeMoved(resource.NewQuantity(16384, resource.BinarySI), 32768) {
		t.Error("a doubling of a small database is a move (more than 1%)")
	}
	if sizeMoved(resource.NewQuantity(1000<<20, resource.BinarySI), 1000<<20+512<<10) {
		t.Error("512Ki on 1000Mi (0.05%) is not a move")
	}
	if !sizeMoved(resource.NewQuantity(1000<<20, resource.BinarySI), 1002<<20) {
		t.Error("2Mi is a move")
	}
	if !sizeMoved(nil, 0) {
		t.Error("a first measure is written")
	}
}
