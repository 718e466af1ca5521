package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwizard/iamwizard/internal/bytesize"
	"github.com/iamwizard/iamwizard/internal/upload"
	"github.com/iamwizard/iamwizard/internal/webui"
)

// TokenEnv may hold the serve token, which keeps it out of the process list.
const TokenEnv = "IAMWIZARD_SERVE_TOKEN"

type serveOptions struct {
	app     appFlags
	listen  string
	token   string
	allow   []string
	maxSize string
}

func serveCmd(stdio IO) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a web page to upload files to the bucket as the application (its role)",
		Long: `serve runs a small web page to upload files (file picker and drag-and-drop) into the
application's bucket, as the application's role. Each upload gets a unique key under the
prefix; extensions and size are limited. It listens on loopback unless told otherwise, and
anywhere else it requires an access token (--token or ` + TokenEnv + `, or a generated one
whose URL is printed once).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, o, stdio) },
	}
	o.app.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on; anything but loopback requires a token")
	f.StringVar(&o.token, "token", "", "access token required on every request (default: "+TokenEnv+"; generated when listening beyond loopback)")
	f.StringSliceVar(&o.allow, "allow-ext", webui.DefaultExtensions, `accepted file extensions, comma-separated, or "*" for any`)
	f.StringVar(&o.maxSize, "max-size", bytesize.Format(webui.DefaultMaxBytes), "largest accepted file, like 100MiB or 1G")
	return cmd
}

func runServe(cmd *cobra.Command, o *serveOptions, stdio IO) error {
	maxBytes, err := bytesize.Parse(o.maxSize)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--max-size: %w", err)}
	}
	var exts []string
	for _, e := range o.allow {
		if e = strings.TrimSpace(e); e == "*" {
			exts = nil
			break
		} else if e != "" {
			exts = append(exts, e)
		}
	}
	if len(exts) == 0 && !containsStar(o.allow) {
		return &ExitError{Code: ExitUsage, Err: errors.New(`--allow-ext: name at least one extension, or "*" to accept any`)}
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--listen: %q is not HOST:PORT: %w", o.listen, err)}
	}
	token := o.token
	if token == "" {
		token = os.Getenv(TokenEnv)
	}
	generated := false
	if token == "" && !isLoopback(host) {
		token, generated = webui.NewToken(), true
	}
	c, err := o.app.connect(cmd)
	if err != nil {
		return err
	}
	id := c.Identity
	srv, err := webui.New(webui.Config{
		Putter: upload.New(c.S3, id.Bucket, upload.Options{}), Bucket: id.Bucket, Prefix: id.KeyPrefix,
		Extensions: exts, MaxBytes: maxBytes, Token: token, Explain: c.ExplainUpload,
		Logger: slog.New(slog.NewTextHandler(stdio.Err, nil)),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.listen, err)
	}
	url := "http://" + displayAddr(ln.Addr().(*net.TCPAddr), host) + "/"
	_, _ = fmt.Fprintf(stdio.Out, "Uploading to s3://%s/%s as %s (from %s).\n", id.Bucket, id.KeyPrefix, c.RoleARN, id.Source)
	switch {
	case generated:
		// Printed once, here: it is the only way in, and it is not stored anywhere.
		_, _ = fmt.Fprintf(stdio.Out, "Open %s?token=%s\n(the token was generated for this run; pass --token or %s to choose one)\n", url, token, TokenEnv)
	case token != "":
		_, _ = fmt.Fprintf(stdio.Out, "Open %s?token=YOUR_TOKEN\n", url)
	default:
		_, _ = fmt.Fprintf(stdio.Out, "Open %s\n", url)
	}
	_, _ = fmt.Fprintln(stdio.Out, "Press Ctrl-C to stop.")
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return serveUntilDone(cmd.Context(), hs, ln)
}

// serveUntilDone serves until ctx ends, then lets running uploads finish for a while.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("stopping the server: %w", err)
	}
	return nil
}

func containsStar(list []string) bool {
	for _, e := range list {
		if strings.TrimSpace(e) == "*" {
			return true
		}
	}
	return false
}

// isLoopback reports whether a listen host reaches this machine only.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayAddr is the address to print: an unspecified host is shown as this machine's name.
func displayAddr(a *net.TCPAddr, host string) string {
	if host == "" || a.IP.IsUnspecified() {
		if name, err := os.Hostname(); err == nil {
			return net.JoinHostPort(name, fmt.Sprint(a.Port))
		}
	}
	if host != "" && net.ParseIP(host) == nil {
		return net.JoinHostPort(host, fmt.Sprint(a.Port))
	}
	return a.String()
}
