# The targets the README names.
.PHONY: test demo build emulator

build:
	go build -o bin/iamwizard ./cmd/iamwizard

# Every check and test, the emulator included.
test:
	scripts/test.sh

# The wizard against a local emulator: no AWS account needed.
demo:
	scripts/demo.sh

emulator:
	scripts/emulator.sh build
