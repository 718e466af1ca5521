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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
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
	now        func() time.Time
	hooks      []func(Call, []byte) []byte

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

// SetClock makes the proxy stamp Call.Time with now instead of the wall clock,
// so a test that drives its code with a fake clock (and passes the same now
// to HideNewKeys and friends) can reason about call times in that clock.
// nil restores the wall clock. The Date header is not affected.
func (p *Proxy) SetClock(now func() time.Time) {
	p.mu.Lock()
	p.now = now
	p.mu.Unlock()
}

func (p *Proxy) clock() time.Time {
	p.mu.Lock()
	now := p.now
	p.mu.Unlock()
	if now == nil {
		return time.Now()
	}
	return now()
}

// maxHookBody bounds how much of a response body is read for response hooks;
// IAM and STS answers are a few KiB.
const maxHookBody = 1 << 20

// OnResponse registers hook to be called with every forwarded IAM or STS
// (query-protocol) response and its body, for example to record the
// credentials in AssumeRole and CreateAccessKey answers so a test can search
// its outputs for them. The body is read into memory and passed on to the
// client unchanged; S3 responses are never read and never reach a hook. The
// Call has its final Status. Hooks run one response at a time, in the order
// registered, and must not modify the body.
func (p *Proxy) OnResponse(hook func(c Call, body []byte)) {
	p.RewriteResponse(func(c Call, body []byte) []byte {
		hook(c, body)
		return nil
	})
}

// RewriteResponse registers rewrite to be called like an OnResponse hook; when it
// returns a non-nil body, the client gets that body instead (for example to add a
// field an emulator leaves out, such as an access key's CreateDate). Later hooks
// see the rewritten body.
func (p *Proxy) RewriteResponse(rewrite func(c Call, body []byte) []byte) {
	p.mu.Lock()
	p.hooks = append(p.hooks, rewrite)
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
	c, body, err := classify(r, p.clock())
	rec := p.record(c)
	if err != nil {
		p.setStatus(rec, http.StatusBadRequest, "")
		http.Error(w, "awsproxy: reading request body: "+err.Error(), http.StatusBadRequest)
		return
	}

	if name, status, contentType, respBody, drop, ok := p.inject(c, body); ok {
		if drop == dropAfterForward {
			// Let the upstream carry out the request, then lose its answer.
			p.rp.ServeHTTP(discardResponse{h: http.Header{}}, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
			p.setStatus(rec, 0, name)
			dropConnection(w)
			return
		}
		if drop == dropBeforeForward {
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

type dropMode int

const (
	noDrop dropMode = iota
	dropBeforeForward
	dropAfterForward
)

// discardResponse is a ResponseWriter that throws the upstream's answer away.
type discardResponse struct{ h http.Header }

func (d discardResponse) Header() http.Header         { return d.h }
func (d discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d discardResponse) WriteHeader(int)             {}

// inject consults the faults in order and, for the first that matches,
// returns its name and response.
func (p *Proxy) inject(c Call, body []byte) (name string, status int, contentType string, respBody []byte, drop dropMode, ok bool) {
	p.mu.Lock()
	if len(p.faults) == 0 {
		p.mu.Unlock()
		return "", 0, "", nil, noDrop, false
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
		if fe.f.DropResponse {
			return fe.f.Name, 0, "", nil, dropAfterForward, true
		}
		respond := fe.f.Respond
		if respond == nil {
			respond = RespondError(http.StatusInternalServerError, "InternalFailure", "awsproxy: fault "+fe.f.Name+" has no Respond")
		}
		status, contentType, respBody, dropped := respond(c)
		drop = noDrop
		if dropped {
			drop = dropBeforeForward
		}
		return fe.f.Name, status, contentType, respBody, drop, true
	}
	return "", 0, "", nil, noDrop, false
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	rec, ok := resp.Request.Context().Value(recordKey{}).(*Call)
	if ok {
		p.setStatus(rec, resp.StatusCode, "")
	}
	p.applyDate(resp.Header)
	p.mu.Lock()
	hooks := slices.Clone(p.hooks)
	var c Call
	if ok {
		c = *rec
	}
	p.mu.Unlock()
	if len(hooks) == 0 || !ok || c.Service == "s3" || resp.Body == nil {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHookBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxHookBody {
		// Too big to be an IAM/STS answer: pass it on unread by the hooks.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return nil
	}
	_ = resp.Body.Close()
	p.evalMu.Lock()
	for _, h := range hooks {
		if nb := h(c, body); nb != nil {
			body = nb
		}
	}
	p.evalMu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Del("Transfer-Encoding")
	resp.TransferEncoding = nil
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
