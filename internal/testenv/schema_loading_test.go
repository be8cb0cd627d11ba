package testenv

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// answers stands in for the API server's answers to creates: errs in turn,
// then success. The 503 while it loads a schema cannot be brought about on
// purpose, so only this unit test of the retry uses a stand-in.
type answers struct {
	client.Client // nil: only Create is called
	errs          []error
	tries         int
}

func (a *answers) Create(context.Context, client.Object, ...client.CreateOption) error {
	a.tries++
	if a.tries <= len(a.errs) {
		return a.errs[a.tries-1]
	}
	return nil
}

// A create is tried again past the 503 of a schema loading, and returned at
// once on any other answer.
func TestCreatePastSchemaLoading(t *testing.T) {
	loading := apierrors.NewServiceUnavailable("Resource kind hosting.landlord.dev/v1alpha1, Kind=Membership not found. There can be a delay between when CustomResourceDefinitions are created and when they are available.")
	for _, tc := range []struct {
		name      string
		answers   []error // the server's answers, in turn, then success
		wantTries int
		wantErr   bool
	}{
		{name: "past two 503s while loading", answers: []error{loading, loading}, wantTries: 3},
		{name: "another 503 is returned", answers: []error{apierrors.NewServiceUnavailable("etcd is down")}, wantTries: 1, wantErr: true},
		{name: "a refusal is returned", answers: []error{apierrors.NewForbidden(corev1.Resource("configmaps"), "x", errors.New("no"))}, wantTries: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server := &answers{errs: tc.answers}
			err := createPastSchemaLoading(context.Background(), server, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "x"}})
			if (err != nil) != tc.wantErr || server.tries != tc.wantTries {
				t.Fatalf("err = %v after %d tries; want error %v after %d", err, server.tries, tc.wantErr, tc.wantTries)
			}
		})
	}
}
