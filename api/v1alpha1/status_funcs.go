package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The kinds Landlord reconciles share these accessors, so that one patch
// helper (internal/kernel) sets observedGeneration and the Ready condition of
// any of them.

// GetConditions returns the conditions.
func (a *Account) GetConditions() []metav1.Condition { return a.Status.Conditions }

// SetConditions replaces the conditions.
func (a *Account) SetConditions(c []metav1.Condition) { a.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (a *Account) SetObservedGeneration(g int64) { a.Status.ObservedGeneration = g }

// GetConditions returns the conditions.
func (m *Membership) GetConditions() []metav1.Condition { return m.Status.Conditions }

// SetConditions replaces the conditions.
func (m *Membership) SetConditions(c []metav1.Condition) { m.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (m *Membership) SetObservedGeneration(g int64) { m.Status.ObservedGeneration = g }

// GetConditions returns the conditions.
func (s *Subscription) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the conditions.
func (s *Subscription) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (s *Subscription) SetObservedGeneration(g int64) { s.Status.ObservedGeneration = g }

// GetConditions returns the conditions.
func (d *CustomDomain) GetConditions() []metav1.Condition { return d.Status.Conditions }

// SetConditions replaces the conditions.
func (d *CustomDomain) SetConditions(c []metav1.Condition) { d.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (d *CustomDomain) SetObservedGeneration(g int64) { d.Status.ObservedGeneration = g }

// GetConditions returns the conditions.
func (d *Database) GetConditions() []metav1.Condition { return d.Status.Conditions }

// SetConditions replaces the conditions.
func (d *Database) SetConditions(c []metav1.Condition) { d.Status.Conditions = c }

// SetObservedGeneration records the generation the status describes.
func (d *Database) SetObservedGeneration(g int64) { d.Status.ObservedGeneration = g }
