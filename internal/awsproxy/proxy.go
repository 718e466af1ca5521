// Package awsproxy is an HTTP reverse proxy for tests that sits in front of an
// AWS-API endpoint (an emulator such as SeaweedFS `weed mini`, serving S3, IAM
// and STS on one port), records every API call it forwards, and can inject
// faults that real AWS shows but an emulator does not: throttling, server
// errors, dropped connections, access keys that take seconds to start working,
// and skewed clocks.
//
// The proxy listens on 127.0.0.1 only. It forwards each request with the Host
// header the client sent, so SigV4 signatures (which cover Host) computed by a
// client for the proxy's address still verify at an upstream that checks them
// against the Host it receives, as emulators do. An upstream that routes by
// Host (real AWS) cannot be used this way.
//
// Each call is classified from its SigV4 credential scope (service and access
// key) and from its body or URL (operation). IAM and STS request bodies are
// small forms and are read into memory; S3 bodies are streamed and never read.
package awsproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Call is one API request seen by the proxy.
type Call struct {
	// Service is the signing name from the SigV4 credential scope: "iam", "sts",
	// "s3", ... For unsigned requests it is "iam" or "sts" when the form's
	// Version says so, otherwise "s3".
	Service string
	// Operation is the API operation: the form field Action for IAM/STS and
	// other query-protocol services, a name derived from method, path and
	// query for S3 (see the package tests), else the HTTP method.
	Operation string
	// AccessKeyID is the access key from the credential scope, "" if unsigned.
	AccessKeyID string
	// Method is the HTTP method.
	Method string
	// Path is the URL path of the request, unescaped.
	Path string
	// Status is the HTTP status returned to the client: 0 while the call is in
	// flight and for a dropped connection, 502 if the upstream could not be
	// reached.
	Status int
	// Injected is the Name of the fault that answered the call, "" if it was
	// forwarded.
	Injected string
	// Time is when the proxy received the request.
	Time time.Time
}

// Proxy is a running reverse proxy; it is safe for concurrent use.
type Proxy struct {
	target    *url.URL
	ln        net.Listener
	srv       *http.Server
	transport *http.Transport
	rp        *httputil.ReverseProxy

	mu         sync.Mutex
	calls      []*Call
	faults     []*faultEntry
	dateOffset time.Duration

	// evalMu serialises fault matching and responding, so stateful Match and
	// Respond functions (pseudo-random rates, first-seen clocks) need no locks
	// and behave deterministically for a sequential client.
	evalMu sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

type faultEntry struct {
	f       Fault
	n       int // injections so far, guarded by Proxy.evalMu
	removed atomic.Bool
}

type recordKey struct{}

// Start starts a proxy on a random 127.0.0.1 port forwarding to upstream,
// which must be an http or https URL without a path, like
// "http://127.0.0.1:8333".
func Start(upstream string) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("awsproxy: upstream %q: %w", upstream, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("awsproxy: upstream %q: want http(s)://host:port", upstream)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		// A path prefix would change the canonical URI the client signed.
		return nil, fmt.Errorf("awsproxy: upstream %q: must not have a path, query or user info", upstream)
	}
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("awsproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln}
	p.transport = &http.Transport{
		Proxy: nil, // never route test traffic through an environment proxy
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Pass bodies through byte for byte; never add Accept-Encoding: gzip
		// and decompress behind the client's back.
		DisableCompression: true,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// SetURL sets Out.Host to the target; SigV4 signed the Host the
			// client used, so forward that one.
			pr.Out.Host = pr.In.Host
		},
		Transport:      p.transport,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
	}
	p.srv = &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 30 * time.Second,
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL returns the proxy's base URL, "http://127.0.0.1:PORT".
func (p *Proxy) URL() string {
	return "http://" + p.ln.Addr().String()
}

// Close stops the proxy, closing its listener and all open connections.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		err := p.srv.Close()
		p.transport.CloseIdleConnections()
		if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			p.closeErr = err
		}
	})
	return p.closeErr
}

// Calls returns a copy of the calls seen since Start or the last Reset, in
// arrival order.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		out[i] = *c
	}
	return out
}

// Reset forgets all recorded calls; calls in flight are not recorded.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.calls = nil
	p.mu.Unlock()
}

// Count returns how many recorded calls satisfy keep.
func (p *Proxy) Count(keep func(Call) bool) int {
	n := 0
	for _, c := range p.Calls() {
		if keep(c) {
			n++
		}
	}
	return n
}

// Counts returns the number of recorded calls per "service:Operation", for
// example "iam:CreateRole" or "s3:PutObject".
func (p *Proxy) Counts() map[string]int {
	m := make(map[string]int)
	for _, c := range p.Calls() {
		m[c.Service+":"+c.Operation]++
	}
	return m
}

// IAMWrites returns the recorded IAM calls whose operation changes state
// (see IsIAMWrite), in arrival order.
func (p *Proxy) IAMWrites() []Call {
	var out []Call
	for _, c := range p.Calls() {
		if c.Service == "iam" && IsIAMWrite(c.Operation) {
			out = append(out, c)
		}
	}
	return out
}

// SetDateOffset makes the proxy rewrite the Date header of every response,
// forwarded or injected, to the current time plus d (for clock-skew tests);
// 0, the default, passes the upstream's Date through.
func (p *Proxy) SetDateOffset(d time.Duration) {
	p.mu.Lock()
	p.dateOffset = d
	p.mu.Unlock()
}

// AddFault appends f to the faults consulted for every request and returns a
// function that removes it again.
func (p *Proxy) AddFault(f Fault) (remove func()) {
	fe := &faultEntry{f: f}
	p.mu.Lock()
	p.faults = append(p.faults, fe)
	p.mu.Unlock()
	return func() {
		fe.removed.Store(true)
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, x := range p.faults {
			if x == fe {
				p.faults = append(p.faults[:i:i], p.faults[i+1:]...)
				return
			}
		}
	}
}

// ServeHTTP classifies, records and then either answers r with a fault or
// forwards it upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, body, err := classify(r, time.Now())
	rec := p.record(c)
	if err != nil {
		p.setStatus(rec, http.StatusBadRequest, "")
		http.Error(w, "awsproxy: reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}

	if name, status, contentType, respBody, drop, ok := p.inject(c, body); ok {
		if drop {
			p.setStatus(rec, 0, name)
			dropConnection(w)
			return
		}
		p.setStatus(rec, status, name)
		h := w.Header()
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		reqID := newRequestID()
		if c.Service == "s3" {
			h.Set("X-Amz-Request-Id", reqID)
		} else {
			h.Set("X-Amzn-Requestid", reqID)
		}
		p.applyDate(h)
		if r.Method == http.MethodHead {
			// S3 answers HEAD errors with headers only; the SDK derives
			// the error code from the status.
			w.WriteHeader(status)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(respBody)))
		w.WriteHeader(status)
		_, _ = w.Write(respBody)
		return
	}

	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
}

func (p *Proxy) record(c Call) *Call {
	rec := &c
	p.mu.Lock()
	p.calls = append(p.calls, rec)
	p.mu.Unlock()
	return rec
}

func (p *Proxy) setStatus(rec *Call, status int, injected string) {
	p.mu.Lock()
	rec.Status = status
	rec.Injected = injected
	p.mu.Unlock()
}

// inject consults the faults in order and, for the first that matches,
// returns its name and response.
func (p *Proxy) inject(c Call, body []byte) (name string, status int, contentType string, respBody []byte, drop, ok bool) {
	p.mu.Lock()
	if len(p.faults) == 0 {
		p.mu.Unlock()
		return "", 0, "", nil, false, false
	}
	faults := append([]*faultEntry(nil), p.faults...)
	p.mu.Unlock()

	p.evalMu.Lock()
	defer p.evalMu.Unlock()
	for _, fe := range faults {
		if fe.removed.Load() {
			continue
		}
		if fe.f.Times > 0 && fe.n >= fe.f.Times {
			continue
		}
		if fe.f.Match != nil && !fe.f.Match(c, body) {
			continue
		}
		fe.n++
		respond := fe.f.Respond
		if respond == nil {
			respond = RespondError(http.StatusInternalServerError, "InternalFailure", "awsproxy: fault "+fe.f.Name+" has no Respond")
		}
		status, contentType, respBody, drop = respond(c)
		return fe.f.Name, status, contentType, respBody, drop, true
	}
	return "", 0, "", nil, false, false
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	if rec, ok := resp.Request.Context().Value(recordKey{}).(*Call); ok {
		p.setStatus(rec, resp.StatusCode, "")
	}
	p.applyDate(resp.Header)
	return nil
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if rec, ok := r.Context().Value(recordKey{}).(*Call); ok {
		p.setStatus(rec, http.StatusBadGateway, "")
	}
	p.applyDate(w.Header())
	http.Error(w, "awsproxy: upstream: "+err.Error(), http.StatusBadGateway)
}

func (p *Proxy) applyDate(h http.Header) {
	p.mu.Lock()
	d := p.dateOffset
	p.mu.Unlock()
	if d != 0 {
		h.Set("Date", time.Now().Add(d).UTC().Format(http.TimeFormat))
	}
}

// dropConnection closes the client connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the response instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
