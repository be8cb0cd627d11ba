// Package tenantpods writes the provider's choices for tenant pods (the
// manager's flags --tenant-max-termination-grace-period-seconds,
// --tenant-tolerations and --tenant-priority-classes) into the admission
// policy that enforces them, config/admission/tenant-pods.yaml. The policy
// ships with the flags' defaults as three constant CEL variables, so that it
// holds before the manager starts; the manager server-side-applies the
// three variables from its flags when it starts, and only when they differ
// (a restart with the same flags writes nothing). Why constants and not a
// parameter ConfigMap: see the policy's header.
package tenantpods

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/platform"
)

// The manager reads and patches this one policy, nothing else of admission.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingadmissionpolicies,verbs=get;patch,resourceNames=landlord-tenant-pods

// PolicyName is the ValidatingAdmissionPolicy the variables are in.
const PolicyName = "landlord-tenant-pods"

// The names of the variables the manager writes.
const (
	MaxTerminationGracePeriodSecondsVariable = "maxTerminationGracePeriodSeconds"
	AllowedTolerationsVariable               = "allowedTolerations"
	AllowedPriorityClassesVariable           = "allowedPriorityClasses"
)

// Variable is a CEL variable of the policy.
type Variable struct{ Name, Expression string }

// Variables are the three variables' expressions for cfg: an integer and two
// lists of strings, written as JSON (a JSON list of strings is a CEL list
// literal; the Helm chart writes its values with toJson, the same text).
func Variables(cfg platform.Config) []Variable {
	return []Variable{
		{MaxTerminationGracePeriodSecondsVariable, strconv.FormatInt(cfg.TenantMaxTerminationGracePeriodSeconds, 10)},
		{AllowedTolerationsVariable, stringList(cfg.TenantTolerations)},
		{AllowedPriorityClassesVariable, stringList(cfg.TenantPriorityClasses)},
	}
}

func stringList(items []string) string {
	if items == nil {
		items = []string{}
	}
	b, err := json.Marshal(items)
	if err != nil {
		panic(err) // strings always marshal
	}
	return string(b)
}

// Build is the server-side apply form of the policy with only the three
// variables: applied with Landlord's field manager, it changes those and
// leaves the rest of the policy to whoever installed it.
func Build(cfg platform.Config) *unstructured.Unstructured {
	vars := make([]any, 0, 3)
	for _, v := range Variables(cfg) {
		vars = append(vars, map[string]any{"name": v.Name, "expression": v.Expression})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": admissionregistrationv1.SchemeGroupVersion.String(),
		"kind":       "ValidatingAdmissionPolicy",
		"metadata":   map[string]any{"name": PolicyName},
		"spec":       map[string]any{"variables": vars},
	}}
	return u
}

// Holds reports whether the live policy already has cfg's values.
func Holds(live *admissionregistrationv1.ValidatingAdmissionPolicy, cfg platform.Config) bool {
	have := map[string]string{}
	for _, v := range live.Spec.Variables {
		have[v.Name] = v.Expression
	}
	for _, v := range Variables(cfg) {
		if e, ok := have[v.Name]; !ok || e != v.Expression {
			return false
		}
	}
	return true
}

// ErrNotInstalled says the policy is not in the cluster (config/admission
// was not installed): the rules for tenant pods do not hold at all.
var ErrNotInstalled = fmt.Errorf("the ValidatingAdmissionPolicy %s is not installed (config/admission): tenant pods are not held to the grace-period, toleration, priority-class and resource rules", PolicyName)

// Apply writes cfg's values into the policy unless it has them already;
// reader reads it uncached. ErrNotInstalled when it does not exist (the
// apply would create a policy of three variables and no rule).
func Apply(ctx context.Context, c client.Client, reader client.Reader, cfg platform.Config) error {
	live := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := reader.Get(ctx, client.ObjectKey{Name: PolicyName}, live); err != nil {
		if apierrors.IsNotFound(err) {
			return ErrNotInstalled
		}
		return fmt.Errorf("reading the ValidatingAdmissionPolicy %s: %w", PolicyName, err)
	}
	if Holds(live, cfg) {
		return nil
	}
	if err := c.Patch(ctx, Build(cfg), client.Apply, client.FieldOwner(platform.FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing the tenant pod rules (--tenant-* flags) into the ValidatingAdmissionPolicy %s: %w", PolicyName, err)
	}
	return nil
}
