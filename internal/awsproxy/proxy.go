package awsproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets what the proxy forwards to and which faults it injects.
type Config struct {
	// Target is moto_server's base URL, "http://127.0.0.1:5000".
	Target string
	// Listen is the address to listen on; empty means 127.0.0.1:0, a free
	// loopback port. Only Start reads it.
	Listen string
	// Latency is added to every request, faulted or not, before it is
	// answered or forwarded: moto answers in microseconds, AWS in tens of
	// milliseconds, and the difference decides whether parallelism pays.
	Latency time.Duration
	// Seed seeds the fault choice, so a test that sends the same requests in
	// the same order sees the same faults on every run.
	Seed int64
	// FaultRate is the share of requests (0..1) that get a fault.
	FaultRate float64
	// Faults are the kinds to pick from, uniformly. Required when FaultRate
	// is above zero.
	Faults []Kind
	// Match, when set, limits faults to the requests it accepts; the others
	// are forwarded untouched and draw nothing from the seeded source, so
	// the faults the matched requests get do not depend on unrelated
	// traffic. It is called with the proxy's lock held: it needs no locking
	// of its own and must not call the Proxy.
	Match func(Request) bool
	// ErrorLog receives forwarding errors (moto unreachable); nil discards
	// them.
	ErrorLog *log.Logger
}

func (c Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.Target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("awsproxy: target %q is not an absolute URL", c.Target)
	}
	if c.FaultRate < 0 || c.FaultRate > 1 {
		return nil, fmt.Errorf("awsproxy: fault rate %v is outside 0..1", c.FaultRate)
	}
	if c.FaultRate > 0 && len(c.Faults) == 0 {
		return nil, errors.New("awsproxy: a fault rate above zero needs at least one fault kind")
	}
	for _, k := range c.Faults {
		if _, ok := kindNames[k]; !ok {
			return nil, fmt.Errorf("awsproxy: unknown fault kind %v", k)
		}
	}
	if c.Latency < 0 {
		return nil, fmt.Errorf("awsproxy: negative latency %v", c.Latency)
	}
	return u, nil
}

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	url string
	srv *http.Server
	rp  *httputil.ReverseProxy
	tr  *http.Transport
	// target is read by the reverse proxy's Rewrite, outside mu.
	target atomic.Pointer[url.URL]

	mu       sync.Mutex
	cfg      Config
	rng      *rand.Rand
	seq      uint64 // requests seen, for request ids
	counts   map[string]int
	faulted  map[string]int
	mutating int
}

// Start starts a proxy for cfg and returns once it is listening.
func Start(cfg Config) (*Proxy, error) {
	target, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	addr := cfg.Listen
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("awsproxy: listen: %w", err)
	}
	p := &Proxy{
		url:     "http://" + ln.Addr().String(),
		cfg:     cfg,
		rng:     newRand(cfg.Seed),
		counts:  map[string]int{},
		faulted: map[string]int{},
	}
	p.target.Store(target)
	errLog := cfg.ErrorLog
	if errLog == nil {
		errLog = log.New(io.Discard, "", 0)
	}
	p.tr = http.DefaultTransport.(*http.Transport).Clone()
	// Never route loopback traffic through an HTTP_PROXY from the
	// environment, and keep enough idle connections for a parallel apply.
	p.tr.Proxy = nil
	p.tr.MaxIdleConnsPerHost = 64
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(p.target.Load())
			// Keep the Host the client signed: SigV4 covers it, and moto
			// tells path-style from virtual-host S3 requests by it.
			pr.Out.Host = pr.In.Host
		},
		Transport: p.tr,
		ErrorLog:  errLog,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away; nobody to answer
			}
			errLog.Printf("awsproxy: forward %s %s: %v", r.Method, r.URL.Path, err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	p.srv = &http.Server{Handler: p, ErrorLog: errLog, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// newRand returns the fault source for seed. PCG is small, fast and fully
// determined by its seed, which is all fault choice needs.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// URL is the proxy's base URL, to use as the SDK's endpoint.
func (p *Proxy) URL() string { return p.url }

// Close stops the proxy and closes every connection it holds.
func (p *Proxy) Close() error {
	err := p.srv.Close()
	p.tr.CloseIdleConnections()
	return err
}

// SetConfig replaces the configuration between test phases. The fault
// source is reseeded from cfg.Seed, so each phase is reproducible on its
// own. Listen is ignored: the proxy keeps its address. Counters are kept;
// see Reset.
func (p *Proxy) SetConfig(cfg Config) error {
	target, err := cfg.validate()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg = cfg
	p.rng = newRand(cfg.Seed)
	p.target.Store(target)
	return nil
}

// SetFaultRate changes only the fault rate, keeping the fault source where
// it is. Rates outside 0..1 are clamped.
func (p *Proxy) SetFaultRate(rate float64) {
	rate = min(max(rate, 0), 1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.FaultRate = rate
}

// Counts returns how many requests reached the proxy per "service:Action",
// faulted ones included: it is the number of calls envctl put on the wire,
// SDK retries included.
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Faulted returns how many requests got a fault per "service:Action".
func (p *Proxy) Faulted() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.faulted)
}

// Mutating returns how many requests were for actions that change state
// (see Request.Mutating), faulted ones included.
func (p *Proxy) Mutating() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mutating
}

// Reset zeroes the counters. It leaves the fault source alone.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
	p.faulted = map[string]int{}
	p.mutating = 0
}

// maxFormBody bounds how much of a form-encoded body the proxy buffers to
// find its Action. Query-protocol requests are small; policy documents are
// the largest thing in them.
const maxFormBody = 16 << 20

// ServeHTTP counts r, applies the latency, and forwards it or injects the
// chosen fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// moto's own control plane (reset, data dump) is not AWS: never count
	// or fault it, so tests can reset moto through the proxy.
	if strings.HasPrefix(r.URL.Path, "/moto-api/") {
		p.rp.ServeHTTP(w, r)
		return
	}
	var body []byte
	if isForm(r.Header.Get("Content-Type")) && r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
		if err != nil {
			return // the client went away mid-request
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	req, proto := classify(r, body)
	kind, requestID, latency := p.decide(req)

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	switch kind {
	case Throttle, InternalError:
		e := faultResponse(req, proto, kind, requestID, r.Header.Get("Content-Type"))
		maps.Copy(w.Header(), e.header)
		w.WriteHeader(e.status)
		_, _ = io.WriteString(w, e.body)
	case DropBeforeServer:
		// Take the whole request first, so the client sees the connection
		// close after sending, not a reset while still writing.
		_, _ = io.Copy(io.Discard, r.Body)
		hangUp(w)
	case DropAfterServer:
		// Let moto perform the call and read all of its answer, then lose
		// it: the forward completes before the client connection closes.
		p.rp.ServeHTTP(&discardWriter{header: http.Header{}}, r.WithContext(context.WithoutCancel(r.Context())))
		hangUp(w)
	default:
		p.rp.ServeHTTP(w, r)
	}
}

// decide counts req and draws its fault, all under one lock so that the
// draws follow the order requests arrive in.
func (p *Proxy) decide(req Request) (kind Kind, requestID string, latency time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	key := req.Key()
	p.counts[key]++
	if req.Mutating() {
		p.mutating++
	}
	cfg := p.cfg
	if cfg.FaultRate > 0 && len(cfg.Faults) > 0 && (cfg.Match == nil || cfg.Match(req)) {
		if p.rng.Float64() < cfg.FaultRate {
			kind = cfg.Faults[p.rng.IntN(len(cfg.Faults))]
			p.faulted[key]++
		}
	}
	// A request id shaped like AWS's (a UUID), unique per proxy; the SDK
	// puts it in error messages, which makes injected faults easy to find
	// in logs.
	requestID = fmt.Sprintf("a0a0a0a0-%04x-4000-8000-%012x", uint16(cfg.Seed), p.seq)
	return kind, requestID, cfg.Latency
}

// hangUp closes the client's connection without writing a response. The
// server is plain HTTP/1.1, so hijacking is always available.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not on HTTP/1.1, but should it happen: aborting the handler also
		// closes the connection without a response.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// discardWriter swallows the response of a DropAfterServer forward.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
