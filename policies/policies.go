// Package policies holds the IAM policy templates that iamwizard renders.
//
// The templates live here as plain files so an administrator can read exactly what
// will be granted; this tiny package exists only because go:embed cannot reach a
// parent directory.
package policies

import "embed"

// Templates is the set of *.json.tmpl files in this directory.
//
//go:embed *.json.tmpl
var Templates embed.FS

// File names of the templates, one per document iamwizard manages.
const (
	UserAssumeRole = "user-assume-role.json.tmpl"
	RolePutObject  = "role-put-object.json.tmpl"
	RoleTrust      = "role-trust.json.tmpl"
)
