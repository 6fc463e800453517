# Valence build, run and test entry points. See README.md.
#
#   make run [CMDLINE='...'] [ADD='host[:/guest] ...'] [MEM=1024] [ACCEL=kvm] [DEBUG=1] [ROOT=nvme0|initfs]
#            [DISK=raw-image] [HOSTFWD='tcp::8080-:80 ...'] [QEMU_EXTRA='-device edu']
#   make test          every test: hosted unit tests, then QEMU end-to-end tests
#   make image         build/image/{valence.mb,initfs.tar,kernel.sym,root.img}
#   make debug         QEMU halted with its gdb stub; prints the gdb command
#   make fuzz          the fuzz targets, FUZZTIME each (default 30s)
#   make soak          the long tests: hosted (VALENCE_LONG=1), fuzzer and IPC storm in QEMU
#   make gotests       Go's own os, io/fs, path/filepath, os/exec, net, net/http test binaries (docs/gotests.md)

SHELL := /bin/sh
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
QEMU ?= qemu-system-x86_64
BUILD := build
IMAGE_DIR := $(BUILD)/image
KERNEL := $(BUILD)/kernel.elf
RECIPE ?= default
CMDLINE ?=
# DEBUG=1 puts the word "debug" on the kernel command line: invariant
# checks after every change (docs/debugging.md).
DEBUG ?=
ADD ?=
MEM ?= 1024
DISK_SIZE ?= 512M
ACCEL ?= tcg
FUZZTIME ?= 30s
TEST_TIMEOUT ?= 60m

# The kernel is linked in the higher half: text at 0xffffffff80201000, so
# physical address = link address - 0xffffffff80000000 (see docs/boot.md).
KERNEL_LDFLAGS := -T=-0x7fdff000
KERNEL_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=amd64
MODULES := caps ipc libos microkernel servers/fs servers/net tools/bench tools/mkimage userland tests drivers/lib drivers/nvme drivers/pci drivers/virtio-net drivers/virtio-blk drivers/edu
# User programs: every directory under userland/ with a main package goes
# into the initfs as /bin/<name>.
USER_PROGS := $(patsubst userland/%/main.go,%,$(wildcard userland/*/main.go))
# The commands of u-root (cmds/core), built unmodified as u-root pins its
# dependencies (userland/uroot/go.mod lists them as tools, outside the
# workspace), go onto the root disk only as /bin/<name> (docs/commands.md).
UROOT_CMDS := $(notdir $(shell sed -n 's|^[[:space:]]*github.com/u-root/u-root/cmds/core/||p' userland/uroot/go.mod))
# Drivers and servers: every drivers/<module>/cmd/<name>/main.go, and the
# servers listed (their other commands are host tools), go into the initfs
# as /bin/<name>; SYSTEM_CMDS lists their directories.
SYSTEM_CMDS := $(patsubst %/main.go,%,$(wildcard drivers/*/cmd/*/main.go)) servers/fs/cmd/fsd servers/net/cmd/netd
SYSTEM_PROGS := $(notdir $(SYSTEM_CMDS))
# The disk make run attaches as an NVMe drive, and the host ports it
# forwards to the guest's virtio-net NIC (QEMU user networking).
DISK ?= $(IMAGE_DIR)/root.img
HOSTFWD ?=
# The root filesystem: the disk /bin/init mounts at "/" before it
# runs init (ROOT=initfs: none; the read-only initfs stays the root).
ROOT ?= nvme0
# More QEMU arguments for make run (devices, say).
QEMU_EXTRA ?=

ifeq ($(ACCEL),kvm)
QEMU_ACCEL := -accel kvm -cpu host
else
QEMU_ACCEL := -accel tcg -cpu max
endif

# Mirrors tests/qemu.Args (with the IOMMU), plus the devices make run
# attaches: DISK as an NVMe drive and a virtio-net NIC on QEMU user
# networking. On a terminal the console is multiplexed with the
# QEMU monitor (Ctrl-A x quits, Ctrl-A c for the monitor); on pipes it is not,
# because the multiplexer can hand early input to the monitor instead.
CONSOLE_TTY := -chardev stdio,id=con,mux=on,signal=off -serial chardev:con -mon chardev=con,mode=readline
CONSOLE_PIPE := -chardev stdio,id=con,signal=off -serial chardev:con -monitor none
QEMU_ARGS = -M q35 $(QEMU_ACCEL) -m $(MEM) -smp 1 -display none -no-reboot \
	-action reboot=shutdown \
	$$(if [ -t 0 ]; then echo '$(CONSOLE_TTY)'; else echo '$(CONSOLE_PIPE)'; fi) \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -device intel-iommu,intremap=off \
	-kernel $(IMAGE_DIR)/valence.mb \
	-initrd "$(IMAGE_DIR)/initfs.tar initfs,$(IMAGE_DIR)/kernel.sym ksym" \
	-append "$(if $(filter 1,$(DEBUG)),debug )$(if $(ROOT),root=$(ROOT) )$(CMDLINE)" \
	-drive file=$(DISK),if=none,id=disk0,format=raw -device nvme,serial=valence0,drive=disk0 \
	-netdev user,id=net0$(if $(strip $(HOSTFWD)),$(comma)hostfwd=$(subst $(space),$(comma)hostfwd=,$(strip $(HOSTFWD)))) \
	-device virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56 $(QEMU_EXTRA)
comma := ,
space := $(subst ,, )

.PHONY: all kernel userland uroot gotests image run bench test test-hosted vet debug fuzz soak clean need-go need-qemu generate

all: image

need-go:
	@scripts/need.sh go

need-qemu:
	@scripts/need.sh qemu

kernel: need-go
	@mkdir -p $(BUILD)
	cd microkernel && $(KERNEL_ENV) $(GO) build -ldflags='$(KERNEL_LDFLAGS)' -o ../$(KERNEL) .

userland: need-go
	@mkdir -p $(BUILD)/userland $(BUILD)/system
	cd userland && for p in $(USER_PROGS); do \
		$(KERNEL_ENV) $(GO) build -o ../$(BUILD)/userland/$$p ./$$p || exit 1; done
	@for c in $(SYSTEM_CMDS); do m=$${c%%/cmd/*}; p=$${c##*/}; \
		echo "build $$c"; \
		(cd $$m && $(KERNEL_ENV) $(GO) build -o $(CURDIR)/$(BUILD)/system/$$p ./cmd/$$p) || exit 1; done

uroot: need-go
	@mkdir -p $(BUILD)/uroot
	@echo "build u-root commands ($(words $(UROOT_CMDS)))"
	cd userland/uroot && GOWORK=off $(KERNEL_ENV) $(GO) build -trimpath -ldflags='-s -w' -o $(CURDIR)/$(BUILD)/uroot/ tool

# Go's own test suites (docs/gotests.md): each package's test binary goes
# into the image as /gotests/bin/<last element>.test, and the files of its
# source directory (testdata, and the sources some tests read) as
# /gotests/src/<package>/, a GOROOT of its own (GOTESTS_SRC adds source
# directories tests read: utf8 and utf16 for filepath's walks, testdata
# for net's sendfile files); /bin/gotests runs each binary in its
# directory. net and net/http need a NIC (docs/net.md).
GOTESTS := os io/fs path/filepath os/exec net net/http
GOTESTS_SRC := unicode/utf8 unicode/utf16 testdata
GOTESTS_DIR := $(BUILD)/gotests

gotests: need-go
	@goroot=$$($(GO) env GOROOT) && rm -rf $(GOTESTS_DIR) && mkdir -p $(GOTESTS_DIR)/bin && \
	for p in $(GOTESTS) $(GOTESTS_SRC); do d=$(GOTESTS_DIR)/src/$$p; mkdir -p $$d && \
		for f in $$goroot/src/$$p/*; do if [ -f $$f ]; then cp $$f $$d/ || exit 1; fi; done && \
		if [ -d $$goroot/src/$$p/testdata ]; then cp -R $$goroot/src/$$p/testdata $$d/; fi || exit 1; done && \
	for p in $(GOTESTS); do echo "go test -c $$p"; \
		$(KERNEL_ENV) $(GO) test -c -ldflags='-s -w' -o $(GOTESTS_DIR)/bin/$${p##*/}.test $$p || exit 1; done

image: kernel userland uroot gotests
	$(GO) run ./tools/mkimage -kernel $(KERNEL) -image images/$(RECIPE) \
		$(foreach p,$(USER_PROGS),-add $(BUILD)/userland/$(p):/bin/$(p)) \
		$(foreach p,$(SYSTEM_PROGS),-add $(BUILD)/system/$(p):/bin/$(p)) \
		$$(cd $(GOTESTS_DIR) && find . -type f | sort | sed 's|^\./\(.*\)|-add $(GOTESTS_DIR)/\1:/gotests/\1|') \
		$(foreach c,$(UROOT_CMDS),-disk-add $(BUILD)/uroot/$(c):/bin/$(c)) \
		$(foreach a,$(ADD),-add $(a)) -entry valence.dev/microkernel/rt.entry32 \
		-disk-size $(DISK_SIZE) -out $(IMAGE_DIR)

run: need-qemu image
	$(QEMU) $(QEMU_ARGS)

debug: need-qemu image
	@echo "QEMU is waiting for gdb on localhost:1234. In another terminal run:"
	@echo "  gdb -ex 'set architecture i386:x86-64' -ex 'file $(KERNEL)' -ex 'target remote localhost:1234'"
	@echo "then, e.g., hbreak valence.dev/microkernel/rt.earlyMain and continue (hardware breakpoints: the early code runs before paging)"
	$(QEMU) $(QEMU_ARGS) -s -S

vet: need-go
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done

# Hosted tests: every package except the QEMU end-to-end tests, which the
# test target runs once the image is built.
test-hosted: need-go vet
	@for m in caps ipc libos microkernel servers/fs servers/net tools/bench tools/mkimage userland drivers/lib drivers/nvme drivers/pci drivers/virtio-net drivers/virtio-blk drivers/edu; do (cd $$m && $(GO) test -count=1 ./...) || exit 1; done
	cd tests && $(GO) test -count=1 ./qemu/...

test: need-go need-qemu
	$(MAKE) test-hosted
	$(MAKE) image
	cd tests && VALENCE_NO_BUILD=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) .

fuzz: need-go
	@for m in caps ipc microkernel servers/fs servers/net tools/mkimage userland; do \
		(cd $$m && for p in $$($(GO) list ./...); do \
			for f in $$($(GO) test -list 'Fuzz.*' $$p | grep '^Fuzz'); do \
				echo "fuzz $$p $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$p || exit 1; \
			done; done) || exit 1; done

# Soak: the tests that make test runs reduced, at full size: the
# filesystem's crash tests over four times the workload, its model test,
# and a 3 GiB file written for real (about 4 minutes on a 2-core machine);
# then, in QEMU, the system call fuzzer until 10^6 calls and the IPC storm
# with 10^6 round trips (TestSoak* in tests/; an hour or more under TCG).
soak: need-go need-qemu
	cd servers/fs && VALENCE_LONG=1 $(GO) test -count=1 -timeout 60m ./...
	$(MAKE) image
	cd tests && VALENCE_NO_BUILD=1 VALENCE_LONG=1 $(GO) test -count=1 -timeout 6h -run 'Soak' -v .

# Benchmarks: the same ubench program inside Valence and inside a Linux
# guest (Debian's kernel, fetched into build/linux, never installed) in the
# same QEMU configuration; a table on stdout and build/bench.json. See
# docs/performance.md. BOOTS sets how many times each kernel boots.
BOOTS ?= 3
# FILEBENCH: more tools/bench flags for the fs-* rows (docs/performance.md),
# e.g. FILEBENCH=-file-quick (32 and 16 MiB files instead of 256 and 64;
# Valence writes files at ~0.5 MiB/s under TCG) or FILEBENCH=-file=false.
FILEBENCH ?=
# NETBENCH: more tools/bench flags for the net-* rows, e.g. NETBENCH=-net-tap=off
# (only QEMU's user network; the tap rows need root) or NETBENCH=-net=false.
NETBENCH ?=
bench: need-qemu image
	@ver=$$(scripts/fetch-linux.sh $(BUILD)/linux) && \
	$(GO) run ./tools/bench -linux $(BUILD)/linux/vmlinuz -linux-version "$$ver" \
		-image $(IMAGE_DIR) -ubench $(BUILD)/userland/ubench -diskbench $(BUILD)/userland/diskbench \
		-filebench $(BUILD)/userland/filebench $(FILEBENCH) \
		-netbench $(BUILD)/userland/netbench $(NETBENCH) \
		-accel $(ACCEL) -mem $(MEM) -boots $(BOOTS) -out $(BUILD)/bench.json

generate: need-go
	cd microkernel && $(GO) generate ./...

clean:
	rm -rf $(BUILD)
