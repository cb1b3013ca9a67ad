# The SMMUv3 kdump series and its lab. See README.md.
PYTHON = python3

.PHONY: help deps tree export kernels unit lint demo check faults clean distclean

help:
	@echo "make demo    build the kernels, run the kdump scenario on base and patched, A/B verdict"
	@echo "make check   the tests: unit, gates, KUnit, the matrix; ends 'N passed, N failed'"
	@echo "make unit    the lab's own tests on recorded runs, in seconds (part of make check)"
	@echo "make lint    the gates of lab/lint.py alone (part of make check)"
	@echo "make faults  the fault matrix on both variants, configurations and boot modes, main x20"
	@echo "make deps | tree | export | kernels | clean | distclean"

deps:
	sh lab/deps.sh

tree: deps
	sh lab/tree.sh

export:
	sh lab/export.sh

kernels: tree
	sh lab/build-kernel.sh base
	sh lab/build-kernel.sh debug-base
	if grep -q . patches/series; then sh lab/build-kernel.sh patched && \
		sh lab/build-kernel.sh debug-patched && sh lab/build-kernel.sh linear; \
	else rm -rf build/out-patched build/out-debug-patched build/out-linear; fi

unit:
	$(PYTHON) -m unittest discover -s lab/tests

lint: kernels
	$(PYTHON) lab/lint.py

demo: kernels
	$(PYTHON) lab/lab.py demo

check: kernels
	$(PYTHON) lab/lab.py check

faults: kernels
	$(PYTHON) lab/lab.py faults

clean:
	rm -rf build/runs

distclean:
	rm -rf build
