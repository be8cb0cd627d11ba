package main

import (
	"strings"
	"testing"
)

const input = `
apiVersion: v1
kind: Namespace
metadata: {name: landlord-system}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: landlord-manager, namespace: landlord-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: landlord-manager}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: landlord-manager}
subjects:
- {kind: ServiceAccount, name: landlord-manager, namespace: landlord-system}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: plans.hosting.landlord.dev}
spec:
  group: hosting.landlord.dev
  names: {kind: Plan, plural: plans}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: landlord-p
  labels: {app.kubernetes.io/managed-by: landlord}
spec:
  validations:
  - expression: "request.userInfo.username != 'system:serviceaccount:landlord-system:landlord-manager'"
    messageExpression: "'use -p {\"spec\":{}}'"
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: landlord-manager, namespace: landlord-system}
`

func TestRender(t *testing.T) {
	objs, err := decode(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(objs)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file      string
		want, not []string
	}{
		{file: "serviceaccount-landlord-manager.yaml",
			want: []string{"namespace: {{ .Release.Namespace }}", `app.kubernetes.io/instance: {{ .Release.Name | quote }}`, "helm.sh/chart: {{ include \"landlord.chart\" . }}"},
			not:  []string{"landlord-system", "{{- if .Values.crds.install }}"}},
		{file: "clusterrolebinding-landlord-manager.yaml",
			want: []string{"  namespace: {{ .Release.Namespace }}"}},
		{file: "customresourcedefinition-plans.hosting.landlord.dev.yaml",
			want: []string{"{{- if .Values.crds.install }}\n", "    {{- if .Values.crds.keep }}\n    helm.sh/resource-policy: keep\n    {{- end }}", "{{- end }}\n"}},
		{file: "validatingadmissionpolicy-landlord-p.yaml",
			// config/'s own managed-by label wins over the chart's; text that
			// looks like a template stays literal.
			want: []string{"app.kubernetes.io/managed-by: landlord", "system:serviceaccount:{{ .Release.Namespace }}:landlord-manager", `{"spec":{{` + "`{}}`" + `}}`},
			not:  []string{"{{ .Release.Service }}"}},
	}
	for _, tc := range cases {
		got, ok := files[tc.file]
		if !ok {
			t.Errorf("%s not rendered; got %d files", tc.file, len(files))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(got), w) {
				t.Errorf("%s lacks %q:\n%s", tc.file, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(string(got), n) {
				t.Errorf("%s has %q:\n%s", tc.file, n, got)
			}
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "namespace-") || strings.HasPrefix(name, "deployment-") {
			t.Errorf("%s rendered: the chart templates it from values", name)
		}
	}
	if len(files) != 4 {
		t.Errorf("rendered %d files, want 4", len(files))
	}
}

// The variables of landlord-tenant-pods that the manager's --tenant-* flags
// set come from the chart's values (the same values that set the flags);
// its other variables stay as config/ writes them. A policy without them
// is an error, not a chart that silently ignores its values.
func TestRenderTenantPodValues(t *testing.T) {
	const policy = `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: landlord-tenant-pods}
spec:
  variables:
  - {name: maxTerminationGracePeriodSeconds, expression: "60"}
  - {name: allowedTolerations, expression: "[]"}
  - {name: allowedPriorityClasses, expression: "[]"}
  - {name: other, expression: "[]"}
`
	objs, err := decode(strings.NewReader(policy))
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(objs)
	if err != nil {
		t.Fatal(err)
	}
	got := string(files["validatingadmissionpolicy-landlord-tenant-pods.yaml"])
	for _, want := range []string{
		"expression: {{ .Values.tenantPods.maxTerminationGracePeriodSeconds | int | toString | quote }}\n    name: maxTerminationGracePeriodSeconds",
		"expression: {{ .Values.tenantPods.tolerations | default list | toJson | quote }}\n    name: allowedTolerations",
		"expression: {{ .Values.tenantPods.priorityClasses | default list | toJson | quote }}\n    name: allowedPriorityClasses",
		"expression: '[]'\n    name: other",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	objs, err = decode(strings.NewReader(strings.Replace(policy, "allowedTolerations", "renamed", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(objs); err == nil || !strings.Contains(err.Error(), "has 2 of the 3 variables") {
		t.Errorf("a policy without a variable the chart writes: %v", err)
	}
}
