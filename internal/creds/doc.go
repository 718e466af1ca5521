// Package creds is the one place iamwizard reads and writes INI files it
// shares with other people: the AWS shared credentials file, the AWS shared
// config file and the application's own INI config file.
//
// Those files live on servers next to profiles the tool does not own, so the
// rule is: never lose anything. Every edit happens under an exclusive lock
// (PATH.lock), is verified before it is written, and is written atomically
// (temp file in the same directory, fsync, rename) with mode 0600.
//
// # Why gopkg.in/ini.v1, and why only for reading
//
// gopkg.in/ini.v1 is the most widely used Go INI library, it is already a
// dependency, and its AllowNestedValues option understands AWS's indented
// sub-properties ("s3 =" followed by "  max_concurrent_requests = 10"). So it
// is the parser of record: Read returns what ini.v1 sees.
//
// It is not used to write. Round-tripping a file through ini.v1 rewrites bytes
// the tool does not own: it aligns "key=value" into "key   = value", drops
// and adds blank lines around comments and strips backticks around values
// (TestIniV1RoundTripChangesBytes keeps that evidence). Instead every edit is a
// minimal line splice: only the lines of the sections the tool owns are
// replaced, new sections are appended at the end after a blank line, and every
// other byte stays as it was.
//
// A splice is only safe if the splicer's idea of where sections and keys are
// matches the parser's. So each file is scanned twice, by a small line scanner
// that mirrors ini.v1's rules and by ini.v1 itself, and any file on which the
// two disagree (for example values spanning lines with """ or backticks) is
// refused with ErrSyntax rather than guessed at. The result of every edit is
// parsed again and compared with the intent before anything is written.
//
// # Matching and nesting
//
// A section matches an owned name when the text between its brackets, with
// surrounding spaces trimmed, equals the name exactly (case-sensitive). A KV
// with Nested entries is written as "key =" followed by "  sub = value" lines,
// the form AWS uses for "[services NAME]" sections; Read flattens those to
// "key.sub" entries.
package creds
