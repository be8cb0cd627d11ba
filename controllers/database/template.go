package database

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/kernel"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/site"
)

// TemplateReconciler gives every site whose SiteTemplate asks for a database
// (spec.database) that Database, in its site namespace, labelled as
// Landlord's: tenants cannot delete or change it (config/admission
// database-protection.yaml), as they cannot delete the site's volume. It
// only creates: a site that moves to a template without a database keeps
// its Database (a change of template deletes no data); the Database goes
// with the site namespace, as the Subscription's deletionPolicy says.
type TemplateReconciler struct {
	client.Client
	Config platform.Config
}

// BuildTemplateDatabase is the Database a template's site gets.
func BuildTemplateDatabase(namespace, account, subscription string, db *v1.TemplateDatabase) *v1.Database {
	return &v1.Database{
		TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "Database"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      site.TemplateDatabaseName(db),
			Labels:    platform.SiteLabels(account, subscription),
		},
	}
}

// Reconcile creates the template's Database of one Subscription's site.
func (r *TemplateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sub := &v1.Subscription{}
	if err := r.Get(ctx, req.NamespacedName, sub); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sub.DeletionTimestamp.IsZero() || kernel.Paused(sub) || sub.Status.Site.Namespace == "" {
		return ctrl.Result{}, nil
	}
	switch sub.Status.Phase {
	case "", v1.PhasePending, v1.PhaseTerminated:
		return ctrl.Result{}, nil
	}
	tmpl := &v1.SiteTemplate{}
	if err := r.Get(ctx, client.ObjectKey{Name: sub.Spec.Site.Template}, tmpl); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if tmpl.Spec.Database == nil {
		return ctrl.Result{}, nil
	}
	acct, siteSub, err := kernel.SiteOf(ctx, r.Client, r.Config, sub.Status.Site.Namespace)
	if err != nil || acct == nil || siteSub.UID != sub.UID {
		return ctrl.Result{}, err // the site namespace is not (yet) this site's
	}
	want := BuildTemplateDatabase(sub.Status.Site.Namespace, acct.Name, sub.Name, tmpl.Spec.Database)
	have := &v1.Database{}
	err = r.Get(ctx, client.ObjectKeyFromObject(want), have)
	switch {
	case err == nil:
		return ctrl.Result{}, nil // there (Landlord's, or the tenant's own of that name)
	case !apierrors.IsNotFound(err):
		return ctrl.Result{}, fmt.Errorf("reading the site's database: %w", err)
	}
	if err := r.Create(ctx, want); err != nil && !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, fmt.Errorf("creating the site's database %s/%s: %w", want.Namespace, want.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("created the template's database", "database", want.Name, "namespace", want.Namespace)
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller: Subscriptions, and the
// SiteTemplates they use (a template that starts asking for a database).
func (r *TemplateReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("database-template").
		For(&v1.Subscription{}).
		Watches(&v1.SiteTemplate{}, handler.EnqueueRequestsFromMapFunc(r.subscriptionsOf)).
		Watches(&v1.Database{}, handler.EnqueueRequestsFromMapFunc(r.siteOf)).
		Complete(r)
}

func (r *TemplateReconciler) subscriptionsOf(ctx context.Context, o client.Object) []reconcile.Request {
	list := &v1.SubscriptionList{}
	if err := r.List(ctx, list); err != nil {
		return nil
	}
	var out []reconcile.Request
	for _, s := range list.Items {
		if s.Spec.Site.Template == o.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
		}
	}
	return out
}

// siteOf wakes the Subscription of a deleted Database's site namespace (a
// template's Database deleted by the provider is made again).
func (r *TemplateReconciler) siteOf(_ context.Context, o client.Object) []reconcile.Request {
	account, sub := platform.SiteOfNamespace(o.GetLabels())
	if account == "" || r.Config.SiteNamespace(account, sub) != o.GetNamespace() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: r.Config.AccountNamespace(account), Name: sub}}}
}
