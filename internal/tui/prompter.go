package tui

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// clearAnswer is what a person types to empty an optional answer whose default is set.
const clearAnswer = "-"

// prompter asks one question at a time over ONE buffered reader, so several answers
// arriving at once (a script piped to stdin) are read in order and none is lost; it
// never accepts a default at end of input.
type prompter struct {
	r *bufio.Reader
	w io.Writer
}

func newPrompter(in io.Reader, out io.Writer) *prompter {
	return &prompter{r: bufio.NewReader(in), w: out}
}

// printf writes to the output; write errors surface as the next read's end of input.
func (p *prompter) printf(format string, a ...any) { _, _ = fmt.Fprintf(p.w, format, a...) }

// readLine reads one answer; a last line without a newline still counts.
func (p *prompter) readLine(what string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if err == io.EOF {
			return "", fmt.Errorf("input ended before %s was answered: nothing was changed", what)
		}
		return "", fmt.Errorf("reading the answer to %s: %w", what, err)
	}
	return strings.TrimSpace(line), nil
}

// ask prompts with the default in brackets: an empty line keeps it, "-" empties an
// optional answer, and every answer is validated (and asked again when refused).
func (p *prompter) ask(label, def string, optional bool, check func(string) error) (string, error) {
	for {
		switch {
		case def != "":
			p.printf("%s [%s]: ", label, def)
		case optional:
			p.printf("%s [none]: ", label)
		default:
			p.printf("%s: ", label)
		}
		answer, err := p.readLine(label)
		if err != nil {
			p.printf("\n")
			return "", err
		}
		switch {
		case answer == "":
			answer = def
		case answer == clearAnswer && optional:
			answer = ""
		}
		if check != nil {
			if err := check(answer); err != nil {
				p.printf("  not accepted: %v\n", err)
				continue
			}
		}
		return answer, nil
	}
}

// confirm asks a yes/no question whose default is no.
func (p *prompter) confirm(question string) (bool, error) {
	for {
		p.printf("%s [y/N]: ", question)
		answer, err := p.readLine(fmt.Sprintf("%q", question))
		if err != nil {
			p.printf("\n")
			return false, err
		}
		switch strings.ToLower(answer) {
		case "y", "yes":
			return true, nil
		case "", "n", "no":
			return false, nil
		}
		p.printf("  please answer y or n\n")
	}
}
