package site

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

func fromSecret(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

func TestEnv(t *testing.T) {
	wordpress := &v1.TemplateDatabase{Name: "wp", Env: []v1.DatabaseEnvVar{
		{Name: "WORDPRESS_DB_HOST", Fact: v1.DatabaseFactAddress},
		{Name: "WORDPRESS_DB_NAME", Fact: v1.DatabaseFactDatabase},
		{Name: "WORDPRESS_DB_USER", Fact: v1.DatabaseFactUser},
		{Name: "WORDPRESS_DB_PASSWORD", Fact: v1.DatabaseFactPassword},
	}}
	for _, c := range []struct {
		name string
		db   *v1.TemplateDatabase
		own  []v1.SiteEnvVar
		want []corev1.EnvVar
	}{
		{"template only", nil, nil, []corev1.EnvVar{{Name: "A", Value: "b"}}},
		{"the template's database, from its Secret", wordpress, nil, []corev1.EnvVar{
			{Name: "A", Value: "b"},
			fromSecret("WORDPRESS_DB_HOST", "wp-mysql", "address"),
			fromSecret("WORDPRESS_DB_NAME", "wp-mysql", "database"),
			fromSecret("WORDPRESS_DB_USER", "wp-mysql", "username"),
			fromSecret("WORDPRESS_DB_PASSWORD", "wp-mysql", "password"),
		}},
		{"default database name", &v1.TemplateDatabase{Env: []v1.DatabaseEnvVar{{Name: "P", Fact: v1.DatabaseFactPort}}}, nil, []corev1.EnvVar{
			{Name: "A", Value: "b"}, fromSecret("P", "site-mysql", "port"),
		}},
		{"the subscription's own, after; a name of theirs wins in place", wordpress, []v1.SiteEnvVar{
			{Name: "A", Value: ptr.To("mine")},
			{Name: "WORDPRESS_DB_HOST", Value: ptr.To("db.example:3306")},
			{Name: "API_KEY", SecretKeyRef: &v1.SecretKeyRef{Name: "keys", Key: "api"}},
		}, []corev1.EnvVar{
			{Name: "A", Value: "mine"},
			{Name: "WORDPRESS_DB_HOST", Value: "db.example:3306"},
			fromSecret("WORDPRESS_DB_NAME", "wp-mysql", "database"),
			fromSecret("WORDPRESS_DB_USER", "wp-mysql", "username"),
			fromSecret("WORDPRESS_DB_PASSWORD", "wp-mysql", "password"),
			fromSecret("API_KEY", "keys", "api"),
		}},
	} {
		s := testSite(true, platform.RouteHTTPRoute)
		s.Template.Spec.Database = c.db
		s.Subscription.Spec.Site.Env = c.own
		if got := Env(s); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
		if got := Deployment(s).Spec.Template.Spec.Containers[0].Env; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: the Deployment's env is %+v", c.name, got)
		}
	}
}
