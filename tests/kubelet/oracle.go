// The kubelet's side of the image credential provider protocol, as an oracle for
// tests/kubelet.rs: it writes requests the way the kubelet encodes them, decodes responses the way
// the kubelet decodes them, and matches auth keys and matchImages against images with the
// kubelet's rules.
//
// Go modules cannot be fetched here, so it imports no Kubernetes package: the types below are
// written from the credentialprovider.kubelet.k8s.io v1 API reference (the same fields and JSON
// tags as k8s.io/kubelet/pkg/apis/credentialprovider/v1), the decoding is sigs.k8s.io/json's
// UnmarshalStrict (what apimachinery's strict serializer uses: case-sensitive names, unknown and
// duplicate fields rejected), and the match rules are the kubelet's (pkg/credentialprovider:
// BasicDockerKeyring.Add's key normalisation, URLsMatch's glob per host label, port, path prefix).
// Built at test time with Debian's Go in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o <target>/kubelet-oracle tests/kubelet/oracle.go
//
// Usage:
//
//	kubelet-oracle request API_VERSION IMAGE [TOKEN [ANNOTATION=VALUE...]]  > request.json
//	kubelet-oracle response API_VERSION IMAGE < response.json              > summary.json
//	kubelet-oracle matches IMAGE PATTERN...                                (exit 0 if one matches)
//
// Any failure: a line on stderr, exit 1.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	sigsjson "sigs.k8s.io/json"
)

const group = "credentialprovider.kubelet.k8s.io"

// TypeMeta is metav1.TypeMeta.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// CredentialProviderRequest is v1's (v1alpha1 and v1beta1 have only the image).
type CredentialProviderRequest struct {
	TypeMeta                  `json:",inline"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// CredentialProviderRequestV1alpha1 is v1alpha1's and v1beta1's.
type CredentialProviderRequestV1alpha1 struct {
	TypeMeta `json:",inline"`
	Image    string `json:"image"`
}

// Duration is metav1.Duration: a JSON string that time.ParseDuration reads.
type Duration struct {
	time.Duration
}

// UnmarshalJSON is metav1.Duration's.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	pd, err := time.ParseDuration(str)
	if err != nil {
		return err
	}
	d.Duration = pd
	return nil
}

// CredentialProviderResponse is the same in v1, v1beta1 and v1alpha1.
type CredentialProviderResponse struct {
	TypeMeta      `json:",inline"`
	CacheKeyType  string                `json:"cacheKeyType"`
	CacheDuration *Duration             `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth,omitempty"`
}

// AuthConfig is the credentials for one match key.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kubelet-oracle: "+format+"\n", args...)
	os.Exit(1)
}

// request writes a request as the kubelet's versioning JSON encoder does.
func request(apiVersion, image string, rest []string) {
	var req interface{}
	meta := TypeMeta{Kind: "CredentialProviderRequest", APIVersion: apiVersion}
	if apiVersion == group+"/v1" {
		r := CredentialProviderRequest{TypeMeta: meta, Image: image}
		if len(rest) > 0 {
			r.ServiceAccountToken = rest[0]
			r.ServiceAccountAnnotations = map[string]string{}
			for _, kv := range rest[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					fail("annotation %q is not KEY=VALUE", kv)
				}
				r.ServiceAccountAnnotations[k] = v
			}
		}
		req = r
	} else {
		req = CredentialProviderRequestV1alpha1{TypeMeta: meta, Image: image}
	}
	out, err := json.Marshal(req)
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(append(out, '\n'))
}

// response decodes a response as the kubelet's execPlugin does, then looks the image up in its
// auth keys as the kubelet's keyring does.
func response(apiVersion, image string) {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	// json.DefaultMetaFactory.Interpret: the group and version must be the configured ones.
	var gvk TypeMeta
	if err := json.Unmarshal(data, &gvk); err != nil {
		fail("error reading GVK from response: %v", err)
	}
	if gvk.APIVersion != apiVersion {
		fail("apiVersion from credential plugin response did not match expected apiVersion:%s, actual apiVersion:%s", apiVersion, gvk.APIVersion)
	}
	var resp CredentialProviderResponse
	strictErrs, err := sigsjson.UnmarshalStrict(data, &resp)
	if err != nil {
		fail("error decoding credential provider plugin response: %v", err)
	}
	if len(strictErrs) > 0 {
		fail("strict decoding error: %v", strictErrs)
	}
	if resp.Kind != "CredentialProviderResponse" {
		fail("failed to decode CredentialProviderResponse, unexpected Kind: %q", resp.Kind)
	}
	if g, _, _ := strings.Cut(resp.APIVersion, "/"); g != group {
		fail("failed to decode CredentialProviderResponse, unexpected Group: %s", g)
	}
	switch resp.CacheKeyType {
	case "Image", "Registry", "Global":
	default:
		fail("credential provider plugin did not return a valid cacheKeyType: %q", resp.CacheKeyType)
	}
	// BasicDockerKeyring.Add: every key normalised, the index reverse-sorted so that longer keys
	// come first; Lookup: the first key that matches.
	keys := map[string]string{}
	index := []string{}
	for loc := range resp.Auth {
		value := loc
		if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
			value = "https://" + value
		}
		parsed, err := url.Parse(value)
		if err != nil {
			fail("auth key %q is invalid (%v): the kubelet ignores it", loc, err)
		}
		path := parsed.Path
		if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/") {
			path = path[3:]
		}
		key := parsed.Host
		if len(path) > 0 && path != "/" {
			key += path
		}
		keys[key] = loc
		index = append(index, key)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(index)))
	for _, k := range index {
		if ok, _ := urlsMatchStr(k, image); ok {
			seconds := int64(-1)
			if resp.CacheDuration != nil {
				seconds = int64(resp.CacheDuration.Duration / time.Second)
			}
			auth := resp.Auth[keys[k]]
			out, _ := json.Marshal(map[string]interface{}{
				"cacheKeyType": resp.CacheKeyType,
				"cacheSeconds": seconds,
				"key":          keys[k],
				"keys":         len(resp.Auth),
				"username":     auth.Username,
				"password":     auth.Password,
			})
			os.Stdout.Write(append(out, '\n'))
			return
		}
	}
	fail("no auth key of %d matches the image %s: the kubelet would pull without credentials", len(resp.Auth), image)
}

// parseSchemelessURL, splitURL, urlsMatchStr and urlsMatch: the kubelet's match rules.
func parseSchemelessURL(schemelessURL string) (*url.URL, error) {
	parsed, err := url.Parse("https://" + schemelessURL)
	if err != nil {
		return nil, err
	}
	parsed.Scheme = ""
	return parsed, nil
}

func splitURL(u *url.URL) (parts []string, port string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		host, port = u.Host, ""
	}
	return strings.Split(host, "."), port
}

func urlsMatchStr(glob string, target string) (bool, error) {
	globURL, err := parseSchemelessURL(glob)
	if err != nil {
		return false, err
	}
	targetURL, err := parseSchemelessURL(target)
	if err != nil {
		return false, err
	}
	return urlsMatch(globURL, targetURL)
}

func urlsMatch(globURL *url.URL, targetURL *url.URL) (bool, error) {
	globParts, globPort := splitURL(globURL)
	targetParts, targetPort := splitURL(targetURL)
	if globPort != targetPort {
		return false, nil
	}
	if len(globParts) != len(targetParts) {
		return false, nil
	}
	if !strings.HasPrefix(targetURL.Path, globURL.Path) {
		return false, nil
	}
	for k, globPart := range globParts {
		matched, err := filepath.Match(globPart, targetParts[k])
		if err != nil {
			return false, err
		}
		if !matched {
			return false, nil
		}
	}
	return true, nil
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) >= 3 && args[0] == "request":
		request(args[1], args[2], args[3:])
	case len(args) == 3 && args[0] == "response":
		response(args[1], args[2])
	case len(args) >= 3 && args[0] == "matches":
		// The kubelet's isImageAllowed: an image is the plugin's if one matchImages entry matches.
		for _, pattern := range args[2:] {
			if ok, _ := urlsMatchStr(pattern, args[1]); ok {
				fmt.Println(pattern)
				return
			}
		}
		fail("no pattern matches %s", args[1])
	default:
		fail("usage: kubelet-oracle request|response|matches ...")
	}
}
