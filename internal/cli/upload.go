package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamwizard/iamwizard/internal/appclient"
	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/bytesize"
	"github.com/iamwizard/iamwizard/internal/objectkey"
	"github.com/iamwizard/iamwizard/internal/progressbar"
	"github.com/iamwizard/iamwizard/internal/upload"
)

// appFlags say which application identity the upload and serve commands use. There is
// deliberately no admin --profile: these commands act as the application only.
type appFlags struct {
	src appclient.Sources
}

func (a *appFlags) register(fs *pflag.FlagSet) {
	s := &a.src
	fs.StringVar(&s.AppConfig, "app-config", "", "take the identity from the classic application's config file ([AWS] RoleArn, BucketName, Profile)")
	fs.StringVar(&s.RoleProfile, "role-profile", "", "the profile that assumes the role (default: the remembered one, or application-role)")
	fs.StringVar(&s.AppProfile, "app-profile", "", "the profile holding the application's key, used with the role ARN (default application-user)")
	fs.StringVar(&s.RoleARN, "role-arn", "", "assume this role with --app-profile's key instead of loading the role profile")
	fs.StringVar(&s.Bucket, "bucket", "", "the bucket to write to (default: from --app-config or the remembered settings)")
	fs.StringVar(&s.KeyPrefix, "key-prefix", "", "the folder the role may write under (default: the remembered one)")
	fs.StringVar(&s.CredentialsFile, "credentials-file", "", "the credentials file with the application's key (default: the remembered one, or the SDK's)")
	fs.StringVar(&s.ConfigFile, "config-file", "", "the config file with the application's profiles (default: the remembered one, or the SDK's)")
	fs.StringVar(&s.SettingsPath, "settings", "", "iamwizard's settings file to read the setup from (default: as for apply)")
}

// connect resolves the identity and assumes the role once, before any file is read.
func (a *appFlags) connect(cmd *cobra.Command) (*appclient.Client, error) {
	a.src.KeyPrefixSet = cmd.Flags().Changed("key-prefix")
	id, err := appclient.Resolve(a.src)
	if err != nil {
		return nil, err
	}
	return appclient.Connect(cmd.Context(), id)
}

type uploadOptions struct {
	app    appFlags
	key    string
	unique bool
	output string
}

// uploadedFile is one line of the command's JSON output.
type uploadedFile struct {
	File string `json:"file"`
	upload.Result
}

func uploadCmd(stdio IO) *cobra.Command {
	o := &uploadOptions{}
	cmd := &cobra.Command{
		Use:   "upload FILE...",
		Short: "Upload files to the bucket as the application (its role), never as an administrator",
		Long: `upload puts files into the application's bucket under its prefix with the application's own
identity: the role profile iamwizard wrote, or the application's key profile plus the role ARN
from --app-config / --role-arn. Large files go up in parts; a failed upload is aborted so no
parts are left behind. Each object's bucket and key are printed.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &ExitError{Code: ExitUsage, Err: errors.New("name at least one FILE to upload (see --help)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runUpload(cmd, o, args, stdio) },
	}
	o.app.register(cmd.Flags())
	cmd.Flags().StringVar(&o.key, "key", "", "the object key for a single FILE (placed under the prefix unless it starts with it)")
	cmd.Flags().BoolVar(&o.unique, "unique", false, "name each object PREFIX/TIMESTAMP-RANDOM-NAME so no upload overwrites another")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runUpload(cmd *cobra.Command, o *uploadOptions, files []string, stdio IO) error {
	if o.output != "text" && o.output != "json" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--output: %q is not text or json", o.output)}
	}
	if o.key != "" && (len(files) != 1 || o.unique) {
		return &ExitError{Code: ExitUsage, Err: awsx.Fix("--key names one object", "pass exactly one FILE with --key, and not --unique")}
	}
	// Every file is checked before the first upload, so a typo in the last name does
	// not leave half a batch uploaded.
	sizes := make([]int64, len(files))
	for i, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot upload %s: %w", f, err)}
		}
		if !fi.Mode().IsRegular() {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("cannot upload %s: not a regular file", f)}
		}
		sizes[i] = fi.Size()
	}
	c, err := o.app.connect(cmd)
	if err != nil {
		return err
	}
	u := upload.New(c.S3, c.Identity.Bucket, upload.Options{})
	var done []uploadedFile
	for i, f := range files {
		key := objectKey(o, c.Identity.KeyPrefix, f)
		res, err := putFile(cmd, u, f, key, sizes[i], stdio)
		if err != nil {
			err = c.ExplainUpload(key, err)
			if rest := files[i+1:]; len(rest) > 0 {
				err = fmt.Errorf("%w\n(not uploaded: %s)", err, strings.Join(rest, ", "))
			}
			if o.output == "json" {
				_ = writeUploadJSON(stdio, done)
			}
			return err
		}
		done = append(done, uploadedFile{File: f, Result: res})
		if o.output == "text" {
			_, _ = fmt.Fprintf(stdio.Out, "uploaded %s: bucket %s, key %s (%s)\n", f, res.Bucket, res.Key, bytesize.Format(res.Size))
		}
	}
	if o.output == "json" {
		return writeUploadJSON(stdio, done)
	}
	return nil
}

func writeUploadJSON(stdio IO, done []uploadedFile) error {
	if done == nil {
		done = []uploadedFile{}
	}
	enc := json.NewEncoder(stdio.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(done)
}

// objectKey is --key under the prefix, a unique name, or the prefix plus the file's name.
func objectKey(o *uploadOptions, prefix, file string) string {
	switch {
	case o.key != "":
		return objectkey.Under(prefix, o.key)
	case o.unique:
		return objectkey.Unique(prefix, filepath.Base(file), time.Now())
	default:
		return prefix + filepath.Base(file)
	}
}

func putFile(cmd *cobra.Command, u *upload.Uploader, file, key string, size int64, stdio IO) (upload.Result, error) {
	f, err := os.Open(file)
	if err != nil {
		return upload.Result{}, err
	}
	defer func() { _ = f.Close() }()
	obj := upload.Object{Key: key, Body: f, Size: size}
	if stdio.IsTerminal {
		bar := progressbar.New(stdio.Err, filepath.Base(file))
		defer bar.Finish()
		obj.Progress = bar.Update
	}
	return u.Put(cmd.Context(), obj)
}
