package site

import (
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/landlord-dev/landlord/api/v1alpha1"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/routing"
)

// ContainerName is the site container's name.
const ContainerName = "site"

// TemplateAnnotation on a site's Deployment names the SiteTemplate it runs.
const TemplateAnnotation = "hosting.landlord.dev/site-template"

// Site is what the site objects are built from.
type Site struct {
	Config  platform.Config
	Account string
	// Namespace is the site namespace, where every site object lives.
	Namespace    string
	Subscription *v1.Subscription
	Template     *v1.SiteTemplate
	// Limits are the effective limits (defaults filled in).
	Limits v1.Limits
	// Serving is false while the subscription is suspended or cancelled: the
	// site scales to zero and its route shows the suspended page.
	Serving bool
}

// meta is a site object's metadata: in the site namespace, labelled with
// the account and subscription. No owner reference: the Subscription lives
// in the account namespace (owners must share a namespace), and the objects
// go with the site namespace.
func (s Site) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: s.Namespace,
		Labels:    platform.SiteLabels(s.Account, s.Subscription.Name),
	}
}

// Selector selects a subscription's site pods.
func Selector(subscription string) map[string]string {
	return map[string]string{v1.SubscriptionLabel: subscription}
}

// Volume is the site's claim: the effective storage, or the existing claim's
// request if that is larger (a volume only ever grows).
func Volume(s Site, existing *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	size := s.Limits.Storage.DeepCopy()
	if cur := RequestOf(existing); cur != nil && cur.Cmp(size) > 0 {
		size = cur.DeepCopy()
	}
	return &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: s.meta(platform.SiteVolumeName(s.Subscription.Name)),
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: size}},
		},
	}
}

// RequestOf is a claim's storage request (nil for no claim).
func RequestOf(pvc *corev1.PersistentVolumeClaim) *resource.Quantity {
	if pvc == nil {
		return nil
	}
	q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil
	}
	return &q
}

// Deployment runs the template's image with the plan's limits, a restricted
// security context (PodSecurityContext), the volume at dataPath and a readiness probe; one
// replica, or none while not serving.
func Deployment(s Site) *appsv1.Deployment {
	t := s.Template.Spec
	sub := s.Subscription
	port := t.Port
	if port == 0 {
		port = 8080
	}
	dataPath := t.DataPath
	if dataPath == "" {
		dataPath = "/data"
	}
	readiness := t.ReadinessPath
	if readiness == "" {
		readiness = "/"
	}
	env := Env(s)
	replicas := int32(1)
	if !s.Serving {
		replicas = 0
	}
	meta := s.meta(platform.SiteName(sub.Name))
	meta.Annotations = map[string]string{TemplateAnnotation: s.Template.Name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: Selector(sub.Name)},
			// One writer of a ReadWriteOnce volume, and no surge over the quota.
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: platform.SiteLabels(s.Account, sub.Name), Annotations: restartRequest(sub)},
				Spec: corev1.PodSpec{
					AutomountServiceAccountToken: ptr.To(false),
					EnableServiceLinks:           ptr.To(false),
					SecurityContext:              PodSecurityContext(t.RunAsUser, port),
					Containers: []corev1.Container{{
						Name:  ContainerName,
						Image: t.Image,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
						Env:   env,
						Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
							corev1.ResourceCPU:    *s.Limits.CPU,
							corev1.ResourceMemory: *s.Limits.Memory,
						}},
						VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: dataPath}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
							HTTPGet: &corev1.HTTPGetAction{Path: readiness, Port: intstr.FromString("http")},
						}},
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot:             ptr.To(true),
							AllowPrivilegeEscalation: ptr.To(false),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
					}},
					Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
						PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: platform.SiteVolumeName(sub.Name)},
					}}},
				},
			},
		},
	}
}

// restartRequest carries the Subscription's restart request (an RFC 3339
// time) onto the pod template, where a new value rolls the site; nil when
// there is none or it is not a time.
func restartRequest(sub *v1.Subscription) map[string]string {
	at, ok := sub.Annotations[v1.RestartRequestedAtAnnotation]
	if !ok {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		return nil
	}
	return map[string]string{v1.RestartRequestedAtAnnotation: at}
}

// Service fronts the site: port 80, named http, to the template's port.
func Service(s Site) *corev1.Service {
	sub := s.Subscription
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: s.meta(platform.SiteName(sub.Name)),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: Selector(sub.Name),
			Ports: []corev1.ServicePort{{
				Name: "http", Port: routing.SitePort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// Route sends the default hostname to the site, or to the suspended page
// while not serving; a site created before --legacy-hostnames-before keeps
// its hostname of the old scheme too (platform.Config.LegacyHostname).
func Route(s Site) client.Object {
	sub := s.Subscription
	backend := routing.SiteBackend(sub.Name)
	if !s.Serving {
		backend = routing.SuspendedBackend(s.Config)
	}
	hostnames := []string{s.Config.DefaultHostname(sub.Name, s.Account)}
	if legacy := s.Config.LegacyHostname(sub.Name, s.Account, sub.CreationTimestamp.Time); legacy != "" {
		hostnames = append(hostnames, legacy)
	}
	return routing.Build(s.Config, routing.Route{
		Name:      platform.SiteName(sub.Name),
		Namespace: s.Namespace,
		Labels:    platform.SiteLabels(s.Account, sub.Name),
		Hostnames: hostnames,
		Backend:   backend,
	})
}

// URL is the site's default address: https:// with --default-https.
func URL(cfg platform.Config, subscription, account string) string {
	if cfg.DefaultHTTPS {
		return "https://" + cfg.DefaultHostname(subscription, account)
	}
	return "http://" + cfg.DefaultHostname(subscription, account)
}

// Landlord's own objects in a site namespace, which the quota's counts
// hold on top of the tenant's (ObjectLimits): the site's pod (one: the
// Deployment recreates rather than surges), its Deployment, its Service
// (and, with Ingress routes, the suspended page's ExternalName Service),
// its volume claim, the landlord-default-deny NetworkPolicy, and the
// kube-root-ca.crt ConfigMap the cluster puts in every namespace.
const (
	ownPods                   = 1
	ownDeployments            = 1
	ownServices               = 1
	ownConfigMaps             = 1
	ownPersistentVolumeClaims = 1
	ownNetworkPolicies        = 1
)

// Quota is the site namespace's ResourceQuota: exactly the site's effective
// limits (requests and limits of CPU, memory and ephemeral storage, storage,
// object counts), with compute at zero while the site is not serving, so
// that nothing a tenant deploys runs on a suspended site; storage is kept.
// NodePort and LoadBalancer Services, ReplicationControllers and further
// ResourceQuotas are never allowed (fixedCounts).
func Quota(s Site) *corev1.ResourceQuota {
	cpu, memory := s.Limits.CPU.DeepCopy(), s.Limits.Memory.DeepCopy()
	if !s.Serving {
		cpu, memory = resource.MustParse("0"), resource.MustParse("0")
	}
	l := WithDefaults(s.Limits)
	services := int64(*l.Objects.Services) + ownServices
	if s.Config.RouteKind == platform.RouteIngress {
		services++ // the suspended page's ExternalName Service
	}
	hard := corev1.ResourceList{
		corev1.ResourceRequestsStorage:          l.Storage.DeepCopy(),
		corev1.ResourceRequestsCPU:              cpu,
		corev1.ResourceLimitsCPU:                cpu,
		corev1.ResourceRequestsMemory:           memory,
		corev1.ResourceLimitsMemory:             memory,
		corev1.ResourceRequestsEphemeralStorage: l.EphemeralStorage.DeepCopy(),
		corev1.ResourceLimitsEphemeralStorage:   l.EphemeralStorage.DeepCopy(),
		corev1.ResourcePods:                     count(int64(*l.Objects.Pods) + ownPods),
		corev1.ResourceServices:                 count(services),
		corev1.ResourceSecrets:                  count(int64(*l.Objects.Secrets)),
		corev1.ResourceConfigMaps:               count(int64(*l.Objects.ConfigMaps) + ownConfigMaps),
		corev1.ResourcePersistentVolumeClaims:   count(int64(*l.Objects.PersistentVolumeClaims) + ownPersistentVolumeClaims),
		platform.CountDeployments:               count(int64(*l.Objects.Deployments) + ownDeployments),
		platform.CountStatefulSets:              count(int64(*l.Objects.StatefulSets)),
		platform.CountJobs:                      count(int64(*l.Objects.Jobs)),
		platform.CountCronJobs:                  count(int64(*l.Objects.CronJobs)),
		platform.CountNetworkPolicies:           count(int64(*l.Objects.NetworkPolicies) + ownNetworkPolicies),
		platform.CountCustomDomains:             count(int64(*l.CustomDomains) + int64(*l.Objects.CustomDomains)),
	}
	maps.Copy(hard, fixedCounts())
	return &corev1.ResourceQuota{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
		ObjectMeta: s.meta(platform.QuotaName),
		Spec:       corev1.ResourceQuotaSpec{Hard: hard},
	}
}

// fixedCounts are the counts of every site namespace, whatever the plan: no
// NodePort or LoadBalancer Service (the tenant guard rails refuse them as
// well), no ReplicationController (a legacy kind no tenant role may write),
// and no ResourceQuota but Landlord's.
func fixedCounts() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceServicesNodePorts:      count(0),
		corev1.ResourceServicesLoadBalancers:  count(0),
		corev1.ResourceReplicationControllers: count(0),
		corev1.ResourceQuotas:                 count(1),
	}
}

func count(n int64) resource.Quantity { return *resource.NewQuantity(n, resource.DecimalSI) }

// NoComputeQuota is the quota of a site namespace whose spec does not
// resolve and that has no quota yet: nothing may run until it does.
func NoComputeQuota(namespace, account, subscription string) *corev1.ResourceQuota {
	zero := resource.MustParse("0")
	hard := corev1.ResourceList{
		corev1.ResourceRequestsStorage: zero, corev1.ResourceRequestsCPU: zero, corev1.ResourceLimitsCPU: zero,
		corev1.ResourceRequestsMemory: zero, corev1.ResourceLimitsMemory: zero,
		corev1.ResourceRequestsEphemeralStorage: zero, corev1.ResourceLimitsEphemeralStorage: zero,
	}
	maps.Copy(hard, fixedCounts())
	return &corev1.ResourceQuota{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
		ObjectMeta: metav1.ObjectMeta{
			Name: platform.QuotaName, Namespace: namespace,
			Labels: platform.SiteLabels(account, subscription),
		},
		Spec: corev1.ResourceQuotaSpec{Hard: hard},
	}
}

// SuspendedPlumbing is what lets the site namespace's routes reach the
// suspended page: a ReferenceGrant in the operator namespace (HTTPRoute) or
// an ExternalName Service in the site namespace (Ingress). Removed with the
// site (the ReferenceGrant explicitly: it lives elsewhere).
func SuspendedPlumbing(cfg platform.Config, namespace, account, subscription string) client.Object {
	labels := platform.SiteLabels(account, subscription)
	if cfg.RouteKind == platform.RouteIngress {
		return routing.SuspendedExternalService(cfg, namespace, labels)
	}
	return routing.SuspendedReferenceGrant(cfg, namespace, labels)
}

// RetainedVolumeLabels label the PersistentVolume of a site terminated under
// deletionPolicy Retain: its account and subscription (not managed-by: the
// volume is no longer one of Landlord's objects; the provider restores or
// deletes it).
func RetainedVolumeLabels(account, subscription string) map[string]string {
	return map[string]string{v1.AccountLabel: account, v1.SubscriptionLabel: subscription}
}
