package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/upload"
)

// fakePutter records what would have been written.
type fakePutter struct {
	mu   sync.Mutex
	puts map[string][]byte
	err  error
}

func (f *fakePutter) Put(_ context.Context, obj upload.Object) (upload.Result, error) {
	if f.err != nil {
		return upload.Result{}, f.err
	}
	b, _ := io.ReadAll(obj.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.puts == nil {
		f.puts = map[string][]byte{}
	}
	f.puts[obj.Key] = b
	return upload.Result{Bucket: "bkt", Key: obj.Key, Size: int64(len(b))}, nil
}

func newServer(t *testing.T, mod func(*Config)) (*Server, *fakePutter) {
	t.Helper()
	p := &fakePutter{}
	cfg := Config{Putter: p, Bucket: "bkt", Prefix: "uploads/", Extensions: []string{".txt", "PDF"}, MaxBytes: 1000, TempDir: t.TempDir()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func form(t *testing.T, name string, body []byte) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(body)
	_ = mw.Close()
	return &buf, mw.FormDataContentType()
}

func post(t *testing.T, s *Server, name string, body []byte, mod func(*http.Request)) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	buf, ct := form(t, name, body)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/upload", buf)
	r.Header.Set("Content-Type", ct)
	r.Header.Set(CSRFHeader, s.csrf)
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w, out
}

func TestUploadStoresUnderAUniqueKey(t *testing.T) {
	s, p := newServer(t, nil)
	w1, out1 := post(t, s, "My Notes.TXT", []byte("one"), nil)
	w2, out2 := post(t, s, "My Notes.TXT", []byte("two"), nil)
	if w1.Code != 200 || w2.Code != 200 {
		t.Fatalf("status %d %d: %s %s", w1.Code, w2.Code, w1.Body, w2.Body)
	}
	k1, k2 := out1["key"].(string), out2["key"].(string)
	if k1 == k2 {
		t.Fatalf("two uploads of the same name got the same key %s", k1)
	}
	re := regexp.MustCompile(`^uploads/\d{8}T\d{6}Z-[0-9a-f]{6}-My-Notes\.TXT$`)
	if !re.MatchString(k1) || string(p.puts[k1]) != "one" || string(p.puts[k2]) != "two" {
		t.Fatalf("keys %s %s, stored %v", k1, k2, p.puts)
	}
	if out1["bucket"] != "bkt" || out1["name"] != "My Notes.TXT" || out1["size"] != float64(3) {
		t.Fatalf("answer %v", out1)
	}
}

func TestRefusalsWriteNothing(t *testing.T) {
	cases := []struct {
		name, file string
		size       int
		mod        func(*http.Request)
		status     int
		message    string
	}{
		{"over the limit", "big.txt", 1001, nil, http.StatusRequestEntityTooLarge, "larger than the limit of 1000 B"},
		{"far over the limit", "big.txt", 200 << 10, nil, http.StatusRequestEntityTooLarge, "larger than the limit"},
		{"disallowed extension", "run.exe", 10, nil, http.StatusUnsupportedMediaType, `files like "run.exe" are not accepted`},
		{"extension only", ".txt", 10, nil, http.StatusUnsupportedMediaType, "not accepted"},
		{"no CSRF token", "a.txt", 10, func(r *http.Request) { r.Header.Del(CSRFHeader) }, http.StatusForbidden, "CSRF"},
		{"wrong CSRF token", "a.txt", 10, func(r *http.Request) { r.Header.Set(CSRFHeader, "x") }, http.StatusForbidden, "CSRF"},
		{"cross-site request", "a.txt", 10, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden, "cross-origin"},
		{"foreign origin", "a.txt", 10, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden, "cross-origin"},
		{"rebound DNS name", "a.txt", 10, func(r *http.Request) { r.Host = "evil.example:8080" }, http.StatusMisdirectedRequest, "localhost"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, p := newServer(t, nil)
			w, out := post(t, s, c.file, bytes.Repeat([]byte("x"), c.size), c.mod)
			if w.Code != c.status || !strings.Contains(out["error"].(string), c.message) {
				t.Fatalf("status %d body %s; want %d with %q", w.Code, w.Body, c.status, c.message)
			}
			if len(p.puts) != 0 {
				t.Fatalf("something was written: %v", p.puts)
			}
		})
	}
}

func TestExactlyTheLimitIsAccepted(t *testing.T) {
	s, p := newServer(t, nil)
	if w, _ := post(t, s, "a.pdf", bytes.Repeat([]byte("x"), 1000), nil); w.Code != 200 || len(p.puts) != 1 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
}

func TestAccessDeniedIsExplained(t *testing.T) {
	s, _ := newServer(t, func(c *Config) {
		c.Explain = func(key string, err error) error {
			return &awsx.FixError{Summary: "denied " + key, Fix: "check the role", Err: err}
		}
	})
	s.cfg.Putter.(*fakePutter).err = &smithy.GenericAPIError{Code: "AccessDenied"}
	w, out := post(t, s, "a.txt", []byte("x"), nil)
	if w.Code != http.StatusBadGateway || !strings.HasPrefix(out["error"].(string), "denied uploads/") || out["fix"] != "check the role" {
		t.Fatalf("status %d body %s", w.Code, w.Body)
	}
}

func TestPageCarriesTheCSRFTokenAndLimits(t *testing.T) {
	s, _ := newServer(t, nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:8080/", nil))
	body := w.Body.String()
	for _, want := range []string{`content="` + s.csrf + `"`, "s3://bkt/uploads/", "1000 B", ".txt .pdf", `type="file"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestTokenIsRequiredWhenSet(t *testing.T) {
	s, p := newServer(t, func(c *Config) { c.Token = "secret-token" })
	get := func(url string, mod func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, url, nil)
		if mod != nil {
			mod(r)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	if w := get("http://server.lan:8080/", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", w.Code)
	}
	if w := get("http://server.lan:8080/?token=wrong", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", w.Code)
	}
	w := get("http://server.lan:8080/?token=secret-token", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("right token: %d to %q", w.Code, w.Header().Get("Location"))
	}
	cookie := w.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if w := get("http://server.lan:8080/", func(r *http.Request) { r.AddCookie(cookie) }); w.Code != 200 {
		t.Fatalf("with the cookie: %d", w.Code)
	}
	if w, _ := post(t, s, "a.txt", []byte("x"), nil); w.Code != http.StatusUnauthorized || len(p.puts) != 0 {
		t.Fatalf("upload without the token: %d", w.Code)
	}
	if w, _ := post(t, s, "a.txt", []byte("x"), func(r *http.Request) { r.Header.Set("Authorization", "Bearer secret-token") }); w.Code != 200 {
		t.Fatalf("upload with a bearer token: %d %s", w.Code, w.Body)
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost:8080": true, "127.0.0.1:1": true, "[::1]:80": true, "127.1.2.3": true,
		"LOCALHOST.": true, "evil.example:8080": false, "10.0.0.1:8080": false, "": false} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v", host, got)
		}
	}
}
