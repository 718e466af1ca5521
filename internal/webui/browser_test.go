package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/iamwizard/iamwizard/internal/appclient/apptest"
	"github.com/iamwizard/iamwizard/internal/upload"
	"github.com/iamwizard/iamwizard/internal/webui"
)

const chromium = "/usr/bin/chromium"

// browser starts headless Chromium, or skips when it is missing and not required.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("IAMWIZARD_REQUIRE_BROWSER") == "1" {
			t.Fatalf("IAMWIZARD_REQUIRE_BROWSER=1 but %s is missing: %v", chromium, err)
		}
		t.Skipf("no %s: install Debian's chromium to run the browser test", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses to start its sandbox as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser; it must not carry the per-step timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return ctx
}

func writeFile(t *testing.T, dir, name string, size int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Repeat("z", size)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// pick sets one file on the page's input, clicks Upload and returns the text of the
// newest result once it is done.
func pick(t *testing.T, ctx context.Context, file string) (ok bool, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results li.ok, #results li.bad").length`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		chromedp.WaitEnabled(chromedp.CSS("#upload")),
		chromedp.Click(chromedp.CSS("#upload")),
	); err != nil {
		t.Fatal(err)
	}
	wait := fmt.Sprintf(`document.querySelectorAll("#results li.ok, #results li.bad").length > %d`, before)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](wait)); err != nil {
		t.Fatalf("no result shown for %s: %v", file, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => { const li = document.querySelector("#results li"); return [li.className, li.innerText]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return res[0] == "ok", res[1]
}

func TestBrowserUploadsThroughThePage(t *testing.T) {
	ctx := browser(t)
	s := apptest.New(t)
	c := apptest.Connect(t)
	srv, err := webui.New(webui.Config{Putter: upload.New(c.S3, s.Bucket, upload.Options{}), Bucket: s.Bucket, Prefix: apptest.Prefix,
		Extensions: []string{".txt", ".pdf"}, MaxBytes: 4096, Explain: c.ExplainUpload})
	if err != nil {
		t.Fatal(err)
	}
	// Record how the server answered each upload from another site, to show that the
	// browser did send it and the server refused it.
	var (
		mu      sync.Mutex
		foreign []string
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		srv.ServeHTTP(rec, r)
		if site := r.Header.Get("Sec-Fetch-Site"); r.URL.Path == "/upload" && site != "same-origin" {
			mu.Lock()
			foreign = append(foreign, fmt.Sprintf("%s %d", site, rec.status))
			mu.Unlock()
		}
	}))
	defer ts.Close()
	dir := t.TempDir()

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#drop"))); err != nil {
		t.Fatal(err)
	}

	// A good file: the page shows the key, and the admin finds exactly that object.
	good := writeFile(t, dir, "Quarterly Report.TXT", 1234)
	ok, text := pick(t, ctx, good)
	if !ok {
		t.Fatalf("the upload failed: %s", text)
	}
	key, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#results li.ok code.key")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, apptest.Prefix) || !strings.HasSuffix(key, "-Quarterly-Report.TXT") {
		t.Fatalf("shown key %q", key)
	}
	got, err := s.Env.S3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("the admin cannot read the shown key %s: %v", key, err)
	}
	_ = got.Body.Close()
	if aws.ToInt64(got.ContentLength) != 1234 {
		t.Fatalf("stored %d bytes", aws.ToInt64(got.ContentLength))
	}

	// The same name again gets another key.
	if ok, text := pick(t, ctx, good); !ok || strings.Contains(text, key) {
		t.Fatalf("second upload of the same name: ok=%v %q (first key %s)", ok, text, key)
	}

	// Refused in the page, with the server's wording.
	for file, want := range map[string]string{
		writeFile(t, dir, "big.txt", 5000): "the file is larger than the limit of 4.0 KiB",
		writeFile(t, dir, "tool.exe", 10):  `files like "tool.exe" are not accepted here`,
	} {
		if ok, text := pick(t, ctx, file); ok || !strings.Contains(text, want) {
			t.Errorf("%s: ok=%v, shown %q, want %q", filepath.Base(file), ok, text, want)
		}
	}

	// Refused by the server itself when the page's own check is bypassed: the browser
	// posts with the page's CSRF token, as the page would.
	post := `(async (name, size) => {
		const fd = new FormData();
		fd.append("file", new Blob(["z".repeat(size)]), name);
		const csrf = document.querySelector('meta[name="csrf-token"]').content;
		const r = await fetch("/upload", {method: "POST", body: fd, headers: {"X-CSRF-Token": csrf}});
		return [String(r.status), (await r.json()).error];
	})`
	for _, c := range []struct {
		name, size, status, want string
	}{{"big.txt", "5000", "413", "larger than the limit"}, {"tool.exe", "10", "415", "not accepted"}} {
		res, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](post+`("`+c.name+`", `+c.size+`)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if res[0] != c.status || !strings.Contains(res[1], c.want) {
			t.Errorf("server answered %v for %s, want %s %q", res, c.name, c.status, c.want)
		}
	}

	// A page of another origin cannot make the browser upload (CSRF).
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = fmt.Fprintf(w, `<script>
			const fd = new FormData(); fd.append("file", new Blob(["evil"]), "evil.txt");
			fetch(%q, {method: "POST", body: fd, mode: "no-cors", headers: {}}).finally(() => document.title = "sent");
		</script>`, ts.URL+"/upload")
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(evilURL)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.title === "sent"`)); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(foreign) != 1 || !strings.HasSuffix(foreign[0], " 403") {
		t.Fatalf("the other origin's uploads were answered %v, want one refused (403)", foreign)
	}

	// Nothing but the two good uploads was written.
	list, err := s.Env.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &s.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(list.Contents); n != 2 {
		var keys []string
		for _, o := range list.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		t.Fatalf("the bucket holds %d objects, want the 2 good uploads: %v", n, keys)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
