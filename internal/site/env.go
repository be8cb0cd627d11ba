package site

import (
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
)

// databaseSecretKeys are the keys of a Database's Secret holding each fact.
var databaseSecretKeys = map[v1.DatabaseFact]string{
	v1.DatabaseFactHost:     "host",
	v1.DatabaseFactPort:     "port",
	v1.DatabaseFactAddress:  "address",
	v1.DatabaseFactDatabase: "database",
	v1.DatabaseFactUser:     "username",
	v1.DatabaseFactPassword: "password",
}

// Env is the site container's environment: the template's variables, then
// those from its database's Secret (the template's database), then the
// Subscription's own (spec.site.env); a later name replaces an earlier one
// in place.
func Env(s Site) []corev1.EnvVar {
	var env []corev1.EnvVar
	at := map[string]int{}
	add := func(e corev1.EnvVar) {
		if i, ok := at[e.Name]; ok {
			env[i] = e
			return
		}
		at[e.Name] = len(env)
		env = append(env, e)
	}
	for _, e := range s.Template.Spec.Env {
		add(corev1.EnvVar{Name: e.Name, Value: e.Value})
	}
	if db := s.Template.Spec.Database; db != nil {
		secret := platform.DatabaseSecretName(TemplateDatabaseName(db))
		for _, e := range db.Env {
			add(corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: databaseSecretKeys[e.Fact],
			}}})
		}
	}
	for _, e := range s.Subscription.Spec.Site.Env {
		switch {
		case e.SecretKeyRef != nil:
			add(corev1.EnvVar{Name: e.Name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: e.SecretKeyRef.Name}, Key: e.SecretKeyRef.Key,
			}}})
		case e.Value != nil:
			add(corev1.EnvVar{Name: e.Name, Value: *e.Value})
		}
	}
	return env
}

// TemplateDatabaseName is the name of the Database a template's sites get.
func TemplateDatabaseName(db *v1.TemplateDatabase) string {
	if db.Name == "" {
		return "site"
	}
	return db.Name
}
