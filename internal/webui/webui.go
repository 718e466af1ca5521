// Package webui serves a small web page for uploading files into the application's
// bucket: a file picker and drag-and-drop, each upload's result and object key, an
// allow-list of extensions and a size limit, unique keys, and CSRF protection.
package webui

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/iamwizard/iamwizard/internal/bytesize"
	"github.com/iamwizard/iamwizard/internal/upload"
)

//go:embed static page.html.tmpl
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "page.html.tmpl"))

// Putter uploads one object; *upload.Uploader is one.
type Putter interface {
	Put(ctx context.Context, obj upload.Object) (upload.Result, error)
}

// DefaultMaxBytes is the default size limit of one file.
const DefaultMaxBytes = 100 << 20

// DefaultExtensions are the extensions accepted by default: documents, images and
// data files, nothing a browser or desktop would run.
var DefaultExtensions = []string{".pdf", ".txt", ".csv", ".json", ".xml", ".png", ".jpg", ".jpeg", ".gif", ".webp",
	".docx", ".xlsx", ".pptx", ".odt", ".ods", ".zip"}

// CookieName holds the access token after the first visit with ?token=.
const CookieName = "iamwizard_token"

// CSRFHeader carries the page's CSRF token on every upload.
const CSRFHeader = "X-CSRF-Token"

// Config says where uploads go and what is accepted.
type Config struct {
	Putter Putter
	Bucket string
	Prefix string // every key starts with it
	// Extensions are the accepted extensions, lower case with the dot; nil accepts any.
	Extensions []string
	MaxBytes   int64 // the largest accepted file; 0 means DefaultMaxBytes
	// Token, when set, is required on every request (as ?token= once, then a cookie, or
	// as "Authorization: Bearer"); without it only loopback host names are served.
	Token string
	// Explain turns an upload error into one a person can act on (nil keeps it).
	Explain func(key string, err error) error
	Logger  *slog.Logger     // nil discards
	Now     func() time.Time // nil is time.Now
	TempDir string           // where uploads are staged; "" is os.TempDir
	// Concurrent bounds the uploads staged and sent at once (0 means 4), so disk and
	// memory use stay bounded however many browsers upload.
	Concurrent int
}

// Server is the upload page's HTTP handler.
type Server struct {
	cfg     Config
	csrf    string
	slots   chan struct{}
	handler http.Handler
}

// New checks the configuration and builds the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Putter == nil || cfg.Bucket == "" {
		return nil, errors.New("webui: a Putter and a bucket are required")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	for i, e := range cfg.Extensions {
		e = strings.ToLower(strings.TrimSpace(e))
		if !strings.HasPrefix(e, ".") {
			e = "." + e
		}
		cfg.Extensions[i] = e
	}
	if cfg.Explain == nil {
		cfg.Explain = func(_ string, err error) error { return err }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Concurrent <= 0 {
		cfg.Concurrent = 4
	}
	s := &Server{cfg: cfg, csrf: randomToken(), slots: make(chan struct{}, cfg.Concurrent)}
	static, _ := fs.Sub(assets, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("POST /upload", s.upload)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "", "cross-origin request refused", "open the upload page itself and upload from there")
	}))
	s.handler = s.guard(cop.Handler(mux))
	return s, nil
}

// ServeHTTP serves the page, its static files and uploads.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// randomToken returns 32 random bytes in hex.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewToken returns a random access token for a server reachable beyond loopback.
func NewToken() string { return randomToken() }

// guard sets security headers and admits only requests with the access token, or,
// without a token, only those addressed to a loopback name: a web page elsewhere that
// rebinds its own DNS name to 127.0.0.1 would otherwise be "same-origin" with us.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if s.cfg.Token == "" {
			if !loopbackHost(r.Host) {
				writeError(w, http.StatusMisdirectedRequest, "", "this server answers only to localhost, 127.0.0.1 or [::1]",
					"open it with one of those names, or start it with --token to serve other names")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet && r.URL.Path == "/" {
			if !s.tokenOK(t) {
				writeError(w, http.StatusUnauthorized, "", "wrong access token", "open the URL that `iamwizard serve` printed")
				return
			}
			// Keep the token out of the address bar, history and logs from here on.
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		if !s.tokenOK(requestToken(r)) {
			writeError(w, http.StatusUnauthorized, "", "an access token is required", "open the URL with ?token= that `iamwizard serve` printed")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func requestToken(r *http.Request) string {
	if a, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(a)
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}

func (s *Server) tokenOK(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1
}

// loopbackHost reports whether a Host header names this machine's loopback interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type pageData struct {
	Bucket, Prefix, MaxSize, Accept, Allowed, CSRF string
	MaxBytes                                       int64
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{Bucket: s.cfg.Bucket, Prefix: s.cfg.Prefix, MaxSize: bytesize.Format(s.cfg.MaxBytes), MaxBytes: s.cfg.MaxBytes, CSRF: s.csrf,
		Accept: strings.Join(s.cfg.Extensions, ","), Allowed: s.allowed()}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, d); err != nil {
		s.cfg.Logger.Error("rendering the page", "err", err)
	}
}

func (s *Server) allowed() string {
	if len(s.cfg.Extensions) == 0 {
		return "any"
	}
	return strings.Join(s.cfg.Extensions, " ")
}

// extensionOK reports whether name ends in an accepted extension, ignoring case.
func (s *Server) extensionOK(name string) bool {
	if len(s.cfg.Extensions) == 0 {
		return true
	}
	lower := strings.ToLower(name)
	for _, e := range s.cfg.Extensions {
		if strings.HasSuffix(lower, e) && len(lower) > len(e) {
			return true
		}
	}
	return false
}

// errorBody is the JSON of a refused or failed upload.
type errorBody struct {
	Name  string `json:"name,omitempty"`
	Error string `json:"error"`
	Fix   string `json:"fix,omitempty"`
}

func writeError(w http.ResponseWriter, status int, name, msg, fix string) {
	writeJSON(w, status, errorBody{Name: name, Error: msg, Fix: fix})
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, name, msg, fix string) {
	s.cfg.Logger.Info("upload refused", "from", r.RemoteAddr, "name", name, "reason", msg)
	writeError(w, status, name, msg, fix)
}

func tooLarge(limit int64) string {
	return fmt.Sprintf("the file is larger than the limit of %s", bytesize.Format(limit))
}
