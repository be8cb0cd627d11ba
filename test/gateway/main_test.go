// Package gateway runs Landlord against a real Gateway API implementation,
// Envoy Gateway's controller (internal/gatewayimpl), and asserts what it
// reports on Landlord's objects: the platform Gateway of config/gateway
// accepted, each site's route accepted with its backends resolved, and a
// suspended site's route resolved to the operator's suspended page through
// Landlord's ReferenceGrant.
//
// The test is skipped only when the envoy-gateway binary is missing and
// LANDLORD_REQUIRE_GATEWAY is unset; `make test` builds the binary and sets it.
package gateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/landlord-dev/landlord/internal/clock"
	"github.com/landlord-dev/landlord/internal/controlplane"
	"github.com/landlord-dev/landlord/internal/dnstest"
	"github.com/landlord-dev/landlord/internal/gatewayimpl"
	"github.com/landlord-dev/landlord/internal/platform"
	"github.com/landlord-dev/landlord/internal/testenv"
)

var (
	env *testenv.Env
	cfg platform.Config
	clk *clock.Fake
	// dns serves the TXT records that verify custom domains.
	dns *dnstest.Server
)

// The wildcard certificate Secret config/gateway's HTTPS listener refers to.
const wildcardSecret = "landlord-wildcard-tls"

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	binary := os.Getenv("LANDLORD_ENVOY_GATEWAY")
	if binary == "" {
		binary = gatewayimpl.Binary(controlplane.BinDir())
	}
	if _, err := os.Stat(binary); err != nil {
		if os.Getenv("LANDLORD_REQUIRE_GATEWAY") != "" {
			fmt.Fprintf(os.Stderr, "test/gateway: LANDLORD_REQUIRE_GATEWAY is set and %v (run 'make envoy-gateway')\n", err)
			return 1
		}
		fmt.Printf("test/gateway: skipped, no Envoy Gateway binary (%v); 'make envoy-gateway' builds it\n", err)
		return 0
	}
	ctx := context.Background()
	var err error
	// cert-manager's Certificate CRD: its controller is not run here (it
	// cannot be built from the module proxy); the tests play its part.
	cm, err := testenv.ModuleDir("github.com/cert-manager/cert-manager@v1.21.2")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	certCRD := filepath.Join(cm, "deploy", "crds", "cert-manager.io_certificates.yaml")
	if env, err = testenv.Start(ctx, testenv.Options{Kwok: true, VolumeProvisioner: true, ExtraCRDPaths: []string{certCRD}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()

	var log *os.File
	if os.Getenv("LANDLORD_TEST_LOG") != "" {
		log = os.Stderr
	}
	opts := gatewayimpl.Options{Binary: binary, Kubeconfig: env.CP.KubeconfigPath}
	if log != nil {
		opts.Log = log
	}
	eg, err := gatewayimpl.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting Envoy Gateway:", err)
		return 1
	}
	defer func() { _ = eg.Stop() }()

	// What `make run-local` applies: the operator's namespace and
	// suspended-page Service (config/operator, in config/install), the
	// platform Gateway with the local GatewayClass (config/local), and the
	// wildcard certificate.
	for _, dir := range []string{"config/operator", "config/local"} {
		if err := applyKustomization(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := env.Client.Create(ctx, wildcardTLSSecret("landlord-gateway", wildcardSecret, "*.sites.landlord.localhost")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	if dns, err = dnstest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = dns.Close() }()
	cfg = platform.Default()
	cfg.DNSServer = dns.Addr()
	clk = clock.NewFake(time.Now().UTC().Truncate(time.Second))
	mgr, err := env.StartManagerWith(testenv.ManagerOptions{Config: cfg, Clock: clk})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = mgr.Stop() }()
	return m.Run()
}

// applyKustomization renders dir with the pinned kustomize (as make
// run-local does) and applies it.
func applyKustomization(ctx context.Context, dir string) error {
	bin := os.Getenv("LANDLORD_KUSTOMIZE")
	if bin == "" {
		matches, _ := filepath.Glob(filepath.Join(controlplane.BinDir(), "kustomize-*"))
		if len(matches) == 0 {
			return fmt.Errorf("no kustomize in bin/: run 'make test', which builds it")
		}
		bin = matches[len(matches)-1]
	}
	out, err := exec.Command(bin, "build", filepath.Join(env.Root, dir)).Output()
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			break
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := env.Client.Patch(ctx, u, client.Apply, client.FieldOwner("landlord-tests"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s from %s: %w", u.GetKind(), u.GetName(), dir, err)
		}
	}
	return nil
}

// wildcardTLSSecret is a self-signed certificate for hosts, as a TLS Secret.
func wildcardTLSSecret(namespace, name string, hosts ...string) *corev1.Secret {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}
}
