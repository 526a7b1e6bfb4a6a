# Fuzz targets (tests/fuzz/fuzz_NAME.c, libFuzzer): each is built with
# clang, ASan and UBSan, from its own file and the sources it parses with
# (FUZZ_NAME_SRCS), into $(O)/tests/bin/fuzz/.  `make fuzz` runs each for
# FUZZ_SECONDS, keeping what it finds in FUZZ_WORK; `make fuzz-smoke`
# (and tests/run.sh) for FUZZ_SMOKE_SECONDS on the seed corpus.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_WORK    ?= $(or $(TMPDIR),/tmp)/scopefs-fuzz
FUZZ_CFLAGS  := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Iinclude -Icore -Iplugins/common -Iplugins/s3 -Iplugins/azblob \
	-Iplugins/gcs $(PKG_CFLAGS) $(shell pkg-config --cflags libxml-2.0 2>/dev/null)

FUZZ_config_SRCS := core/config.c core/scope.c core/metrics_addr.c
FUZZ_config_LIBS := $(PKG_LIBS)
FUZZ_scope_SRCS  := core/scope.c core/config.c core/metrics_addr.c # config_workload_name
FUZZ_scope_LIBS  := $(PKG_LIBS)
FUZZ_objkey_SRCS := plugins/common/objkey.c plugins/common/strbuf.c
FUZZ_s3_xml_SRCS := plugins/s3/s3_xml.c plugins/common/xml.c \
	plugins/common/objlist.c plugins/common/objkey.c plugins/common/strbuf.c
FUZZ_s3_xml_LIBS := -lxml2
FUZZ_azblob_xml_SRCS := plugins/azblob/azblob_xml.c $(COMMON_HTTP_SRCS)
FUZZ_azblob_xml_LIBS := $(COMMON_HTTP_LIBS)
FUZZ_gcs_json_SRCS := plugins/gcs/gcs_json.c $(COMMON_HTTP_SRCS)
FUZZ_gcs_json_LIBS := $(COMMON_HTTP_LIBS)

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN   := $(FUZZ_NAMES:%=$(O)/tests/bin/fuzz/fuzz_%)

define fuzz_rule
$(O)/tests/bin/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_$(1)_SRCS) \
		$(wildcard include/scopefs/*.h core/*.h plugins/*/*.h tests/fuzz/*.h) | check-deps
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $$@ $$< $(FUZZ_$(1)_SRCS) $(FUZZ_$(1)_LIBS)
endef
$(foreach f,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(f))))

.PHONY: build-fuzz fuzz fuzz-smoke
build-fuzz: $(FUZZ_BIN)

# One target after another: each libFuzzer process uses one core.
fuzz: build-fuzz
	@rc=0; for b in $(FUZZ_BIN); do \
		tests/fuzz/run-one.sh $$b $(FUZZ_SECONDS) $(FUZZ_WORK) || rc=1; \
	done; exit $$rc

fuzz-smoke: build-fuzz
	@rc=0; for b in $(FUZZ_BIN); do \
		tests/fuzz/run-one.sh $$b $(FUZZ_SMOKE_SECONDS) || rc=1; \
	done; exit $$rc
