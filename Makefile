# waent.onprem — developer entry points. `make lab` and `make test` do everything on a fresh
# Debian 12 machine (they run `make setup` first).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ENV := source scripts/env.sh &&
# Molecule scenarios to run (default: every scenario under extensions/molecule).
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))

.PHONY: help setup images sim-images lab lab-destroy test test-fresh lint sanity units simulator molecule changelog clean

help:
	@echo "make setup        install packages, podman config, toolchain venv, collections"
	@echo "make images       build the lab base image (cached by recipe hash)"
	@echo "make sim-images   images + the Webapp/Coreapp simulator images, their archives, the simulator DB image"
	@echo "make lab          setup + images + lab hosts + converge site.yml + report [TOPOLOGY=single|multiconnect]"
	@echo "make lab-destroy  remove the lab's containers and networks (and nothing else)"
	@echo "make test         setup + images + lint + sanity + units + simulator + molecule"
	@echo "make test-fresh   make test as on a fresh machine: clone of HEAD, empty toolchain cache, image rebuilt"
	@echo "make simulator    the simulator's conformance suite (builds its images, runs them with real clients)"
	@echo "make lint|sanity|units|molecule [SCENARIOS='timesync ...']"

setup:
	@bash scripts/setup.sh

images: setup
	@bash tests/lab/build-image.sh

# Simulator images (tests/simulator/build-images.sh): the DB image is built FROM the lab image.
sim-images: images
	@bash tests/simulator/build-images.sh

# make lab TOPOLOGY=multiconnect: 1 Webapp, 2 Coreapps, 2 Masters (one co-hosted), podman.
TOPOLOGY ?= single
lab: sim-images
	@$(ENV) TOPOLOGY=$(TOPOLOGY) bash tests/lab/lab.sh up

lab-destroy:
	@$(ENV) bash tests/lab/lab.sh destroy

test: sim-images
	@bash scripts/test.sh all

# Committed HEAD in a temporary clone with a throw-away WAENT_HOME and a rebuilt lab image; the
# developer's checkout and cache are left alone (scripts/test-fresh.sh).
test-fresh:
	@bash scripts/test-fresh.sh

lint: setup
	@bash scripts/test.sh lint

sanity: setup
	@bash scripts/test.sh sanity

units: setup
	@bash scripts/test.sh units

simulator: images
	@bash scripts/test.sh simulator

molecule: sim-images
	@SCENARIOS="$(SCENARIOS)" bash scripts/test.sh molecule

changelog: setup
	@$(ENV) antsibull-changelog lint

clean:
	rm -rf .cache tests/output
