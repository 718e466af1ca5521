package webui

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"

	"github.com/iamwizard/iamwizard/internal/awsx"
	"github.com/iamwizard/iamwizard/internal/objectkey"
	"github.com/iamwizard/iamwizard/internal/upload"
)

// formOverhead is what a multipart form adds around the file: boundaries and headers.
const formOverhead = 64 << 10

// Uploaded is the JSON answer to a stored upload.
type Uploaded struct {
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Size   int64  `json:"size"`
}

// upload stages the one file of a multipart form on disk within the limit, then puts
// it under a fresh unique key. A refused file is never sent to S3.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(CSRFHeader)), []byte(s.csrf)) != 1 {
		s.refuse(w, r, http.StatusForbidden, "", "missing or wrong CSRF token", "reload the upload page and try again")
		return
	}
	limit := s.cfg.MaxBytes
	if r.ContentLength > limit+formOverhead {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "", tooLarge(limit), "upload a smaller file")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+formOverhead)
	mr, err := r.MultipartReader()
	if err != nil {
		s.refuse(w, r, http.StatusBadRequest, "", "the request is not a file upload (multipart/form-data)", "")
		return
	}
	part, err := filePart(mr)
	if err != nil {
		s.refuse(w, r, statusOf(err), "", "no file in the request: "+err.Error(), "choose a file to upload")
		return
	}
	defer func() { _ = part.Close() }()
	name := part.FileName()
	if !s.extensionOK(name) {
		s.refuse(w, r, http.StatusUnsupportedMediaType, name, fmt.Sprintf("files like %q are not accepted here", name),
			"accepted extensions: "+s.allowed())
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	case <-r.Context().Done():
		return
	}
	tmp, err := os.CreateTemp(s.cfg.TempDir, "iamwizard-upload-*")
	if err != nil {
		s.cfg.Logger.Error("staging an upload", "err", err)
		writeError(w, http.StatusInternalServerError, name, "the server cannot stage the upload", "see the server's log")
		return
	}
	defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
	// One byte more than the limit tells "exactly the limit" from "too large".
	n, err := io.Copy(tmp, io.LimitReader(part, limit+1))
	if err != nil {
		status := statusOf(err)
		if status == http.StatusRequestEntityTooLarge {
			s.refuse(w, r, status, name, tooLarge(limit), "upload a smaller file")
		} else {
			s.refuse(w, r, status, name, "the upload was interrupted", "try again")
		}
		return
	}
	if n > limit {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, name, tooLarge(limit), "upload a smaller file")
		return
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		writeError(w, http.StatusInternalServerError, name, "the server cannot read the staged upload", "")
		return
	}
	key := objectkey.Unique(s.cfg.Prefix, name, s.cfg.Now())
	res, err := s.cfg.Putter.Put(r.Context(), upload.Object{Key: key, Body: tmp, Size: n})
	if err != nil {
		err = s.cfg.Explain(key, err)
		s.cfg.Logger.Error("upload failed", "from", r.RemoteAddr, "name", name, "key", key, "err", err)
		var fe *awsx.FixError
		if errors.As(err, &fe) {
			writeError(w, http.StatusBadGateway, name, fe.Summary, fe.Fix)
		} else {
			writeError(w, http.StatusBadGateway, name, err.Error(), "")
		}
		return
	}
	s.cfg.Logger.Info("uploaded", "from", r.RemoteAddr, "name", name, "bucket", res.Bucket, "key", res.Key, "size", n)
	writeJSON(w, http.StatusOK, Uploaded{Name: name, Bucket: res.Bucket, Key: res.Key, Size: n})
}

// filePart returns the form's "file" part, skipping any other field.
func filePart(mr *multipart.Reader) (*multipart.Part, error) {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, errors.New(`the form has no "file" field`)
		}
		if err != nil {
			return nil, err
		}
		if p.FormName() == "file" && p.FileName() != "" {
			return p, nil
		}
		_ = p.Close()
	}
}

// statusOf maps a body read error to a status: over the byte limit is 413.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
