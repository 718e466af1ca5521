package setup

import (
	"strings"
	"testing"
)

func valid() Setup {
	return Setup{Partition: "aws", Account: "123456789012", Bucket: "my-bucket", KeyPrefix: "uploads/",
		UserName: DefaultUserName, RoleName: DefaultRoleName, UserPolicyName: DefaultUserPolicyName,
		RolePolicyName: DefaultRolePolicyName, MaxSessionDuration: DefaultMaxSessionDuration}
}

func TestValidateRefusesWhatIAMAndS3Refuse(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Setup)
		want   string // a part of the error; "" means valid
	}{
		{"defaults", func(*Setup) {}, ""},
		{"whole bucket", func(s *Setup) { s.KeyPrefix = "" }, ""},
		{"unicode prefix", func(s *Setup) { s.KeyPrefix = "données/été/" }, ""},
		{"64-char user", func(s *Setup) { s.UserName = strings.Repeat("u", 64) }, ""},
		{"65-char user", func(s *Setup) { s.UserName = strings.Repeat("u", 65) }, "at most 64"},
		{"65-char role", func(s *Setup) { s.RoleName = strings.Repeat("r", 65) }, "at most 64"},
		{"129-char policy", func(s *Setup) { s.RolePolicyName = strings.Repeat("p", 129) }, "at most 128"},
		{"quote in user", func(s *Setup) { s.UserName = `a"b` }, "character IAM does not allow"},
		{"space in role", func(s *Setup) { s.RoleName = "a b" }, "character IAM does not allow"},
		{"template syntax", func(s *Setup) { s.UserName = "{{.RoleARN}}" }, "character IAM does not allow"},
		{"newline", func(s *Setup) { s.RolePolicyName = "a\nb" }, "character IAM does not allow"},
		{"unicode name", func(s *Setup) { s.UserName = "usér" }, "character IAM does not allow"},
		{"empty user", func(s *Setup) { s.UserName = "" }, "required"},
		{"same policies ignoring case", func(s *Setup) { s.RolePolicyName = strings.ToUpper(s.UserPolicyName) }, "must be different"},
		{"uppercase bucket", func(s *Setup) { s.Bucket = "My-Bucket" }, "lowercase"},
		{"underscore bucket", func(s *Setup) { s.Bucket = "my_bucket" }, "lowercase letters, digits"},
		{"short bucket", func(s *Setup) { s.Bucket = "ab" }, "3 to 63"},
		{"ip bucket", func(s *Setup) { s.Bucket = "192.168.1.1" }, "IP address"},
		{"double dot bucket", func(s *Setup) { s.Bucket = "a..b" }, "adjacent dots"},
		{"quote bucket", func(s *Setup) { s.Bucket = `a"b` }, "lowercase letters"},
		{"wildcard prefix", func(s *Setup) { s.KeyPrefix = "up*/" }, "wildcards"},
		{"question prefix", func(s *Setup) { s.KeyPrefix = "up?/" }, "wildcards"},
		{"variable prefix", func(s *Setup) { s.KeyPrefix = "${aws:username}/" }, "policy variable"},
		{"prefix without slash", func(s *Setup) { s.KeyPrefix = "uploads" }, "ends with /"},
		{"prefix with leading slash", func(s *Setup) { s.KeyPrefix = "/uploads/" }, "do not start with /"},
		{"prefix newline", func(s *Setup) { s.KeyPrefix = "a\nb/" }, "control characters"},
		{"prefix quote", func(s *Setup) { s.KeyPrefix = `a"b/` }, "advises against"},
		{"prefix backslash", func(s *Setup) { s.KeyPrefix = `a\b/` }, "advises against"},
		{"prefix template", func(s *Setup) { s.KeyPrefix = "{{.UserARN}}/" }, "advises against"},
		{"prefix right-to-left mark", func(s *Setup) { s.KeyPrefix = "a\u202eb/" }, "invisible formatting"},
		{"prefix too long", func(s *Setup) { s.KeyPrefix = strings.Repeat("a", 600) + "/" }, "under 512"},
		{"session too short", func(s *Setup) { s.MaxSessionDuration = 3599 }, "3600 to 43200"},
		{"session too long", func(s *Setup) { s.MaxSessionDuration = 43201 }, "3600 to 43200"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := valid()
			c.change(&s)
			err := s.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestARNsAreBuiltFromPartitionAccountAndName(t *testing.T) {
	s := valid()
	s.Partition = "aws-cn"
	if got, want := s.RoleARN(), "arn:aws-cn:iam::123456789012:role/application-role"; got != want {
		t.Errorf("RoleARN = %s, want %s", got, want)
	}
	if got, want := s.ObjectsARN(), "arn:aws-cn:s3:::my-bucket/uploads/*"; got != want {
		t.Errorf("ObjectsARN = %s, want %s", got, want)
	}
}
