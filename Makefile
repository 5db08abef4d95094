# omads-gateway: `make run` starts the gateway on the embedded default, `make test` runs the suite.
# Both work on a fresh Debian 12 machine with Python 3.11: they create .venv on first use and
# install what they need (Python packages with pip, Debian packages with apt-get when missing).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= conf/omads-gateway.toml
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages the test suite drives as real peers or reference tools (chromium and
# chromium-driver for the admin pages in a real browser, systemd for the unit checks).
TEST_DEBS := libwbxml2-utils syncevolution syncevolution-http python3-twisted dbus time gcc \
             kannel kannel-extras socat sip-tester kamailio obexftp openobex-apps \
             chromium chromium-driver systemd

.PHONY: run test lint venv debian-test-deps clean

# Sync at http://127.0.0.1:8080/sync (demo/demo), OBEX on 127.0.0.1:6500, the admin pages
# at http://127.0.0.1:8081/ (admin/admin), notifications over UDP and SIP.
run: $(STAMP)
	mkdir -p var
	$(BIN)/twistd -n --pidfile= omads-gateway --config $(CONFIG)

# lint-imports checks the layers, the pure config and notifier, and import cycles between
# siblings; tests/test_import_cycles.py also those through a package's __init__.
test: $(STAMP) debian-test-deps
	$(BIN)/lint-imports
	$(BIN)/ruff check --select F --output-format concise gateway tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check --select F --output-format concise gateway tests bench
	$(BIN)/python -m pytest -q tests/test_import_cycles.py

venv: $(STAMP)

$(STAMP): pyproject.toml setup.cfg
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	# PyOBEX is a test peer; its PyBluez dependency no longer builds, so without deps.
	$(BIN)/python -m pip install -q --no-deps pyobex==0.31
	touch $(STAMP)

debian-test-deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info
