// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the kdump lab, for both kernels: one image, two stages.
 *
 * System stage (no /proc/vmcore): mount the pseudo file systems, bring the
 * NICs up (their posted receive buffers are the DMA in flight), load the
 * capture kernel with kexec_file_load(KEXEC_FILE_ON_CRASH), or with
 * kexec-tools' `kexec -p` where the initramfs carries it, print each
 * SMMU's registers and each device's STE (and CD) from its own SMMU, apply
 * the scenario's mutation, mark the panic in QEMU's trace (a read of the
 * first SMMU's SMMU_AIDR, which no driver reads) and panic with sysrq 'c'.
 *
 * Capture stage (/proc/vmcore exists): print the SMMUs' registers and the
 * kernel's SMMU log lines, wait for the dump disk (virtio-blk, serial
 * "vmcore"), copy /proc/vmcore to it (zero blocks are skipped: the host's
 * image is sparse and zero-filled), run the series' kselftest if the
 * initramfs has it (/selftest/arm_smmu_v3_kdump, KTAP on the console), on
 * a kernel with kmemleak scan for leaks, and power off.
 *
 * Every line meant for the host starts with "LAB: " and is key=value.
 * Parameters come from the kernel command line as lab.KEY=VALUE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SMMU_SIZE		0x20000UL
#define MAX_SMMUS		4
#define SMMU_AIDR		0x1c
#define SMMU_CR0		0x20
#define SMMU_CR0ACK		0x24
#define SMMU_GERROR		0x60
#define SMMU_GERRORN		0x64
#define SMMU_IRQ_CTRL		0x50
#define SMMU_IRQ_CTRLACK	0x54
#define SMMU_STRTAB_BASE	0x80
#define SMMU_STRTAB_BASE_CFG	0x88
#define SMMU_CMDQ_BASE		0x90
#define SMMU_CMDQ_PROD		0x98
#define GERROR_CMDQ_ERR		0x1
#define IRQ_CTRL_GERROR_IRQEN	0x1

#ifndef KEXEC_FILE_ON_CRASH
#define KEXEC_FILE_ON_CRASH	0x2
#endif

static char cmdline[4096];

static void say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* The console is shared with the kernel: one write per line. */
	if (write(1, "LAB: ", 5) < 0 || write(1, buf, n) < 0)
		return;
}

static void die(const char *what)
{
	say("error=\"%s: %s\"", what, strerror(errno));
	sync();
	reboot(RB_POWER_OFF);
	_exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * lab.KEY=VALUE from the command line; commas in VALUE stand for spaces.
 * Returns an allocated copy (a few, for the life of /init).
 */
static const char *param(const char *key, const char *def)
{
	char val[512];
	char pat[64];
	const char *p, *e;
	size_t n;

	snprintf(pat, sizeof(pat), "lab.%s=", key);
	for (p = cmdline; (p = strstr(p, pat)); p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		p += strlen(pat);
		e = strchr(p, ' ');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n >= sizeof(val))
			n = sizeof(val) - 1;
		memcpy(val, p, n);
		val[n] = 0;
		for (char *c = val; *c; c++)
			if (*c == ',')
				*c = ' ';
		return strdup(val);
	}
	return def;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static void mount_all(void)
{
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL))
		die("mount /proc");
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		die("mount /sys");
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) && errno != EBUSY)
		die("mount /dev");
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		say("warning=\"no debugfs: %s\"", strerror(errno));
}

/*
 * lab.smmu: the SMMUs' register bases, facts of the host's machine,
 * separated by colons, in the order of lab.sids' SMMU indexes (the first
 * one carries the trace markers).
 */
static unsigned long long smmu_base[MAX_SMMUS];
static unsigned int nr_smmus;

static void parse_smmus(void)
{
	const char *p = param("smmu", "");
	char *end;

	while (*p && nr_smmus < MAX_SMMUS) {
		smmu_base[nr_smmus++] = strtoull(p, &end, 0);
		if (end == p)
			die("bad lab.smmu");
		p = end + strspn(end, ": ");
	}
	if (*p) {
		errno = E2BIG;
		die("more SMMUs in lab.smmu than MAX_SMMUS");
	}
	if (!nr_smmus) {
		errno = EINVAL;
		die("no lab.smmu");
	}
}

static volatile uint8_t *smmu_map(unsigned int k)
{
	static volatile uint8_t *smmu[MAX_SMMUS];
	int fd;

	if (!nr_smmus)
		parse_smmus();
	if (k >= nr_smmus) {
		errno = EINVAL;
		die("no such SMMU in lab.smmu");
	}
	if (smmu[k])
		return smmu[k];
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		die("open /dev/mem");
	smmu[k] = mmap(NULL, SMMU_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       smmu_base[k]);
	close(fd);
	if (smmu[k] == MAP_FAILED)
		die("mmap SMMU registers");
	return smmu[k];
}

static uint32_t rd32(unsigned int k, unsigned int off)
{
	return *(volatile uint32_t *)(smmu_map(k) + off);
}

static uint64_t rd64(unsigned int k, unsigned int off)
{
	return *(volatile uint64_t *)(smmu_map(k) + off);
}

static void print_smmu(const char *when)
{
	if (!nr_smmus)
		parse_smmus();
	for (unsigned int k = 0; k < nr_smmus; k++)
		say("smmu when=%s CR0=0x%x GERROR=0x%x GERRORN=0x%x STRTAB_BASE=0x%llx STRTAB_BASE_CFG=0x%x index=%u base=0x%llx",
		    when, rd32(k, SMMU_CR0), rd32(k, SMMU_GERROR), rd32(k, SMMU_GERRORN),
		    (unsigned long long)rd64(k, SMMU_STRTAB_BASE),
		    rd32(k, SMMU_STRTAB_BASE_CFG), k, smmu_base[k]);
}

/* Bring every interface but lo up: virtio-net then posts receive buffers. */
static void nics_up(void)
{
	const char *names[] = { "eth0", "eth1", "eth2", "eth3" };
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	int up = 0;

	if (s < 0)
		die("socket");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ifreq ifr = { 0 };

		strncpy(ifr.ifr_name, names[i], IFNAMSIZ - 1);
		if (ioctl(s, SIOCGIFFLAGS, &ifr))
			continue;
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr))
			die("SIOCSIFFLAGS");
		say("nic=%s up=1", names[i]);
		up++;
	}
	close(s);
	if (!up)
		say("warning=\"no NIC found\"");
}

/*
 * The guest "kexec" (lab/initrd.py) carries Debian's kexec-tools: load with
 * `kexec -p` as kdump-tools does. kexec-tools 2.0.29 tries
 * kexec_file_load(2) first and falls back to kexec_load(2) where the kernel
 * lacks it, as Debian's arm64 kernel does (CONFIG_KEXEC_FILE off); the lab
 * kernel has it, so -c asks for kexec_load(2) (the ELF core header built by
 * kexec-tools) directly. -d makes kexec print the kexec_load() call.
 */
#define KEXEC_TOOLS "/usr/sbin/kexec"

static void kexec_tools_load(const char *cmd)
{
	char append[1100];
	int status;
	pid_t pid;

	snprintf(append, sizeof(append), "--command-line=%s", cmd);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		execl(KEXEC_TOOLS, KEXEC_TOOLS, "-d", "-c", "-p", "--initrd=/capture.cpio",
		      append, "/Image", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid kexec");
	say("loader=kexec-tools rc=%d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("kexec -p");
}

static void load_capture_kernel(void)
{
	char cmd[1024];
	int kfd, ifd;
	long ret;

	/* The host writes the capture kernel's whole command line. */
	snprintf(cmd, sizeof(cmd), "%s", param("capture", ""));
	if (!*cmd)
		die("no lab.capture");
	if (!access(KEXEC_TOOLS, X_OK)) {
		kexec_tools_load(cmd);
	} else {
		kfd = open("/Image", O_RDONLY);
		ifd = open("/capture.cpio", O_RDONLY);
		if (kfd < 0 || ifd < 0)
			die("open capture kernel or initrd");
		ret = syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmd) + 1, cmd,
			      KEXEC_FILE_ON_CRASH);
		if (ret)
			die("kexec_file_load");
		close(kfd);
		close(ifd);
		say("loader=kexec_file_load rc=0");
	}
	if (read_file("/sys/kernel/kexec_crash_loaded", cmd, sizeof(cmd)) ||
	    strcmp(cmd, "1"))
		die("capture kernel not loaded");
	say("kexec_crash_loaded=1");
}

/* The dump disk is the virtio-blk disk whose serial is "vmcore". */
static int find_dump_disk(char *dev, size_t len, double timeout)
{
	double end = now() + timeout;
	char path[128], buf[64];

	do {
		for (char c = 'a'; c <= 'h'; c++) {
			snprintf(path, sizeof(path), "/sys/block/vd%c/serial", c);
			if (read_file(path, buf, sizeof(buf)) || strcmp(buf, "vmcore"))
				continue;
			snprintf(dev, len, "/dev/vd%c", c);
			if (access(dev, W_OK) == 0)
				return 0;
		}
		usleep(100000);
	} while (now() < end);
	return -1;
}

/* Physical memory (RAM) through /dev/mem's read/write: the linear map. */
static uint64_t phys_rd64(uint64_t pa)
{
	uint64_t v;
	int fd = open("/dev/mem", O_RDONLY);

	if (fd < 0 || pread(fd, &v, 8, pa) != 8)
		die("read /dev/mem");
	close(fd);
	return v;
}

static void phys_wr64(uint64_t pa, uint64_t v)
{
	int fd = open("/dev/mem", O_WRONLY);

	if (fd < 0 || pwrite(fd, &v, 8, pa) != 8)
		die("write /dev/mem");
	fsync(fd);
	close(fd);
}

#define ADDR_MASK	0x000fffffffffffc0ULL	/* bits 51:6 */

/*
 * SMMU @k's live stream table: its base, and its split if it has 2 levels
 * (else 0).
 */
static uint64_t strtab_geometry(unsigned int k, unsigned int *split)
{
	uint32_t cfg = rd32(k, SMMU_STRTAB_BASE_CFG);

	*split = ((cfg >> 16) & 3) == 1 ? (cfg >> 6) & 0x1f : 0;
	return rd64(k, SMMU_STRTAB_BASE) & ADDR_MASK;
}

/* Where the L1 descriptor of @sid lives on SMMU @k (0: a linear table). */
static uint64_t l1_desc_pa(unsigned int k, unsigned int sid)
{
	unsigned int split;
	uint64_t base = strtab_geometry(k, &split);

	return split ? base + (uint64_t)(sid >> split) * 8 : 0;
}

/* Where the stream table entry of @sid lives on SMMU @k. */
static uint64_t ste_pa(unsigned int k, unsigned int sid)
{
	unsigned int split;
	uint64_t base = strtab_geometry(k, &split);

	if (!split)
		return base + (uint64_t)sid * 64;
	return (phys_rd64(l1_desc_pa(k, sid)) & ADDR_MASK) +
	       (uint64_t)(sid & ((1U << split) - 1)) * 64;
}

/* Poll a register of SMMU @k until it reads @want; a hang names itself. */
static void wait_reg(unsigned int k, unsigned int off, uint32_t mask, uint32_t want,
		     const char *what)
{
	double end = now() + 1.0;

	while ((rd32(k, off) & mask) != want)
		if (now() > end) {
			errno = ETIMEDOUT;
			die(what);
		}
}

static void set_field(uint64_t pa, uint64_t mask, uint64_t val, const char *what)
{
	uint64_t old = phys_rd64(pa);
	uint64_t new = (old & ~mask) | (val & mask);

	phys_wr64(pa, new);
	say("mutated=%s pa=0x%llx old=0x%llx new=0x%llx", what,
	    (unsigned long long)pa, (unsigned long long)old,
	    (unsigned long long)phys_rd64(pa));
}

static void wr32(unsigned int k, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(smmu_map(k) + off) = v;
}

/* Start of the capture kernel's reserved memory, from /proc/iomem. */
static uint64_t crashk_start(void)
{
	char line[256];
	unsigned long long start = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		die("open /proc/iomem");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "Crash kernel") &&
		    sscanf(line, " %llx-", &start) == 1)
			break;
	fclose(f);
	if (!start)
		die("no Crash kernel in /proc/iomem");
	return start;
}

/*
 * A real command queue error, latched in GERROR at the panic. Arming turns
 * the GERROR interrupt off, so that the crashed kernel never acknowledges
 * the error. Firing, the last thing before the panic (the SMMU stops its
 * command queue on the error, and the crashed kernel's next CMD_SYNC would
 * spin on it with interrupts off), puts an illegal command (opcode 0) at
 * the queue's producer index and advances the index.
 */
static int cmdq_error_armed = -1;	/* the SMMU armed, or -1 */

static void cmdq_error_arm(unsigned int k)
{
	uint32_t irq = rd32(k, SMMU_IRQ_CTRL) & ~IRQ_CTRL_GERROR_IRQEN;

	wr32(k, SMMU_IRQ_CTRL, irq);
	wait_reg(k, SMMU_IRQ_CTRLACK, ~0U, irq, "IRQ_CTRLACK");
	cmdq_error_armed = k;
	say("mutated=gerror_cmdq armed=1 IRQ_CTRL=0x%x smmu=%u", irq, k);
}

static void cmdq_error_fire(unsigned int k)
{
	uint64_t base = rd64(k, SMMU_CMDQ_BASE);
	unsigned int log2 = base & 0x1f;
	uint32_t mask = (2U << log2) - 1;	/* index and wrap bits */
	uint32_t prod = rd32(k, SMMU_CMDQ_PROD);
	uint64_t slot = (base & 0x000fffffffffffe0ULL) +
			(uint64_t)(prod & ((1U << log2) - 1)) * 16;

	phys_wr64(slot, 0);
	phys_wr64(slot + 8, 0);
	wr32(k, SMMU_CMDQ_PROD, (prod & ~mask) | ((prod + 1) & mask));
}

/*
 * The DMA devices' stream IDs and the index of the SMMU in front of each,
 * from lab.sids ("SID[@K]" each, K 0 if left out; the host's, first the
 * one mutations apply to by default).
 */
static unsigned int sids[8], sid_smmu[8];
static size_t nr_sids;

static void parse_sids(void)
{
	const char *p = param("sids", "");
	char *end;

	while (*p && nr_sids < sizeof(sids) / sizeof(sids[0])) {
		sids[nr_sids] = strtoul(p, &end, 0);
		if (end == p)
			die("bad lab.sids");
		sid_smmu[nr_sids] = 0;
		if (*end == '@') {
			p = end + 1;
			sid_smmu[nr_sids] = strtoul(p, &end, 0);
			if (end == p)
				die("bad lab.sids");
		}
		smmu_map(sid_smmu[nr_sids++]);
		p = end + strspn(end, " ");
	}
	if (!nr_sids) {
		errno = EINVAL;
		die("no lab.sids");
	}
}

/* The SMMU in front of @sid (lab.sids), the first one for any other. */
static unsigned int smmu_of(unsigned int sid)
{
	for (size_t i = 0; i < nr_sids; i++)
		if (sids[i] == sid)
			return sid_smmu[i];
	return 0;
}

#define STE_CFG_S1	5
#define STE_CFG_NESTED	7

/*
 * The context descriptor of substream 0 (the DMA domain's) of a stage-1
 * STE, and its ASID (CD word 0, bits 63:48): the ASID the crashed kernel
 * tagged the device's translations with. S1Fmt 1 and 2 are 2-level CD
 * tables (L1 descriptor 0 points at the leaf table).
 */
static void print_cd(unsigned int k, unsigned int sid, uint64_t w0)
{
	unsigned int cdmax = w0 >> 59, fmt = (w0 >> 4) & 3;
	uint64_t pa = w0 & ADDR_MASK, cd0;

	if (cdmax && fmt) {
		pa = phys_rd64(pa) & 0x000ffffffffff000ULL;
		if (!pa)
			return;
	}
	cd0 = phys_rd64(pa);
	say("cd sid=0x%x pa=0x%llx w0=0x%llx asid=%u valid=%d smmu=%u", sid,
	    (unsigned long long)pa, (unsigned long long)cd0,
	    (unsigned int)(cd0 >> 48), (int)((cd0 >> 31) & 1), k);
}

/*
 * The crashed kernel's STE for each DMA device, from its own SMMU: what it
 * granted; and for a stage-1 STE its CD.
 */
static void print_stes(void)
{
	for (size_t i = 0; i < nr_sids; i++) {
		unsigned int k = sid_smmu[i];
		uint64_t l1 = l1_desc_pa(k, sids[i]);
		uint64_t pa, w0;
		unsigned int cfg;

		if (!(rd32(k, SMMU_CR0) & 1) || (l1 && !(phys_rd64(l1) & ADDR_MASK)))
			continue;
		pa = ste_pa(k, sids[i]);
		w0 = phys_rd64(pa);
		say("ste sid=0x%x pa=0x%llx w0=0x%llx w1=0x%llx smmu=%u", sids[i],
		    (unsigned long long)pa, (unsigned long long)w0,
		    (unsigned long long)phys_rd64(pa + 8), k);
		cfg = (w0 >> 1) & 7;
		if ((w0 & 1) && (cfg == STE_CFG_S1 || cfg == STE_CFG_NESTED))
			print_cd(k, sids[i], w0);
	}
}

/*
 * The scenario's mutation, "lab.mutate=NAME[:VALUE[:SID]]", applied to the
 * live SMMU state just before the panic, on the SMMU in front of SID
 * (lab.sids; SID defaults to lab.sids' first; VALUE "crashk" is an address
 * 8 MiB into the capture kernel's memory):
 *   l1_span:V          span field of the SID's L1 descriptor
 *   l1_l2ptr:PA        L2 table pointer of the SID's L1 descriptor
 *   ste_cfg:V          Config field of the SID's STE
 *   ste_ctxptr:PA      S1ContextPtr of the SID's STE
 *   strtab_log2size:V  LOG2SIZE of SMMU_STRTAB_BASE_CFG (written while enabled)
 *   gerror_cmdq        a command queue error latched in GERROR (fired
 *                      just before the panic, see cmdq_error_arm())
 *   smmu_off           clear SMMU_CR0 (SMMUEN=0 at the panic)
 */
static void mutate(const char *spec)
{
	char name[32] = "", arg[64] = "0";
	unsigned long long val;
	unsigned int sid = sids[0], k;

	if (!*spec)
		return;
	if (sscanf(spec, "%31[a-z0-9_]:%63[^:]:%i", name, arg, &sid) < 1)
		die("bad lab.mutate");
	for (k = 0; k < nr_sids && sids[k] != sid; k++)
		;
	if (k == nr_sids) {
		/* smmu_of() would take the first SMMU: a wrong table mutated. */
		errno = EINVAL;
		die("lab.mutate's SID is not in lab.sids");
	}
	k = smmu_of(sid);
	say("mutate=%s sid=0x%x smmu=%u", name, sid, k);
	val = strcmp(arg, "crashk") ? strtoull(arg, NULL, 0) : crashk_start() + (8 << 20);
	if (!strcmp(name, "l1_span") || !strcmp(name, "l1_l2ptr")) {
		uint64_t pa = l1_desc_pa(k, sid);

		if (!pa)
			die("l1 mutation on a linear stream table");
		if (!strcmp(name, "l1_span"))
			set_field(pa, 0x1f, val, name);
		else
			set_field(pa, ADDR_MASK, val, name);
	} else if (!strcmp(name, "ste_cfg")) {
		set_field(ste_pa(k, sid), 0xe, val << 1, name);
	} else if (!strcmp(name, "ste_ctxptr")) {
		set_field(ste_pa(k, sid), ADDR_MASK, val, name);
	} else if (!strcmp(name, "strtab_log2size")) {
		uint32_t old = rd32(k, SMMU_STRTAB_BASE_CFG);

		wr32(k, SMMU_STRTAB_BASE_CFG, (old & ~0x3fU) | (uint32_t)(val & 0x3f));
		say("mutated=%s old=0x%x new=0x%x", name, old, rd32(k, SMMU_STRTAB_BASE_CFG));
	} else if (!strcmp(name, "gerror_cmdq")) {
		cmdq_error_arm(k);
	} else if (!strcmp(name, "smmu_off")) {
		wr32(k, SMMU_CR0, 0);
		wait_reg(k, SMMU_CR0ACK, 1, 0, "CR0ACK");
		say("mutated=smmu_off CR0=0x%x", rd32(k, SMMU_CR0));
	} else {
		errno = EINVAL;
		die("unknown lab.mutate");
	}
}

/* A second device with DMA in flight: read the dump disk, unbuffered, forever. */
static void disk_reader(void)
{
	static uint8_t buf[1 << 16] __attribute__((aligned(4096)));
	char dev[32];
	int fd;

	if (find_dump_disk(dev, sizeof(dev), 10))
		die("no disk for the reader");
	if (fork())
		return;
	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0)
		die("open disk for the reader");
	for (off_t off = 0;; off = (off + sizeof(buf)) % (256 << 20))
		if (pread(fd, buf, sizeof(buf), off) < 0)
			_exit(1);
}

static void system_stage(void)
{
	const char *cpu = param("panic_cpu", "0");
	double settle = atof(param("settle", "2"));
	cpu_set_t set;

	say("stage=system");
	parse_sids();
	nics_up();
	if (atoi(param("disk_reader", "0")))
		disk_reader();
	load_capture_kernel();
	print_smmu("system");
	/* Let the receive path run with the sender's frames arriving. */
	usleep((useconds_t)(settle * 1e6));
	print_stes();
	mutate(param("mutate", ""));
	print_smmu("panic");
	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
	say("panic cpu=%d", sched_getcpu());
	sync();
	/* The panic stops the console: let this line out first. */
	tcdrain(1);
	if (cmdq_error_armed >= 0)
		cmdq_error_fire(cmdq_error_armed);
	/*
	 * The panic marker in QEMU's trace: no driver reads SMMU_AIDR. The
	 * first SMMU's only, so that its first read is the panic and its
	 * second the dump saved, however many SMMUs there are.
	 */
	(void)rd32(0, SMMU_AIDR);
	if (write_file("/proc/sysrq-trigger", "c"))
		die("sysrq");
	die("still alive after sysrq c");
}

/* Print the kernel log lines that mention the SMMU. */
static void smmu_log(void)
{
	char rec[2048];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		char *msg;

		if (n <= 0)
			continue;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg || !strcasestr(msg, "smmu"))
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		say("klog=\"%s\"", msg);
	}
	close(fd);
}

static int all_zero(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)p;

	for (size_t i = 0; i < n / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/*
 * Copy /proc/vmcore to the dump disk, 1 MiB at a time, skipping zero blocks
 * (the host's image is sparse and zero-filled). Through mmap(), as
 * makedumpfile reads it: read() costs a memremap() per page of the crashed
 * kernel's memory, which is slow (and under KASAN very slow); read() only
 * where mmap() is refused.
 */
static void save_vmcore(void)
{
	static uint8_t buf[1 << 20] __attribute__((aligned(4096)));
	unsigned long long total, written = 0, off;
	int in, out, mapped = 1;
	struct stat st;
	char dev[32];
	double t0;

	if (find_dump_disk(dev, sizeof(dev), 30))
		die("no dump disk (virtio-blk serial=vmcore) within 30 s");
	in = open("/proc/vmcore", O_RDONLY);
	out = open(dev, O_WRONLY);
	if (in < 0 || out < 0 || fstat(in, &st))
		die("open vmcore or dump disk");
	say("dump_disk=%s", dev);
	t0 = now();
	total = st.st_size;
	for (off = 0; off < total; off += sizeof(buf)) {
		size_t n = total - off < sizeof(buf) ? total - off : sizeof(buf);
		const uint8_t *p = MAP_FAILED;

		if (mapped) {
			p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, in, off);
			mapped = p != MAP_FAILED;
		}
		if (!mapped) {
			if (pread(in, buf, n, off) != (ssize_t)n)
				die("read /proc/vmcore");
			p = buf;
		}
		if (!all_zero(p, n)) {
			if (pwrite(out, p, n, off) != (ssize_t)n)
				die("write dump disk");
			written += n;
		}
		if (mapped)
			munmap((void *)p, n);
	}
	if (fsync(out))
		die("fsync dump disk");
	close(out);
	close(in);
	say("vmcore saved=1 bytes=%llu nonzero=%llu seconds=%.1f mmap=%d", total,
	    written, now() - t0, mapped);
}

/*
 * The kselftest of tools/testing/selftests/iommu/, as a distro would run it
 * in its kdump initramfs: after the dump is safe, output on the console.
 */
static void run_selftest(void)
{
	static const char test[] = "/selftest/arm_smmu_v3_kdump";
	int status;
	pid_t pid;

	if (access(test, X_OK))
		return;
	say("selftest=start");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		execl(test, test, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	say("selftest=done rc=%d", WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status));
}

/*
 * On a kernel with kmemleak (the debug configuration): scan, twice (an
 * object seen unreferenced once may be in flight between two lists), and
 * print the report and the count of leaks.
 */
static void kmemleak_report(void)
{
	static const char path[] = "/sys/kernel/debug/kmemleak";
	char line[1024];
	int leaks = 0;
	FILE *f;

	if (access(path, W_OK))
		return;
	for (int i = 0; i < 2; i++)
		if (write_file(path, "scan"))
			die("kmemleak scan");
	f = fopen(path, "r");
	if (!f)
		die("open kmemleak");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		leaks += !strncmp(line, "unreferenced object", 19);
		say("kmemleak| %s", line);
	}
	fclose(f);
	say("kmemleak leaks=%d", leaks);
}

static void capture_stage(void)
{
	say("stage=capture");
	print_smmu("capture");
	smmu_log();
	save_vmcore();
	/* The dump-saved marker in QEMU's trace: the second SMMU_AIDR read */
	(void)rd32(0, SMMU_AIDR);
	run_selftest();
	kmemleak_report();
}

int main(void)
{
	mount_all();
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)))
		die("read /proc/cmdline");
	if (!strcmp(param("stage", ""), "kunit"))
		say("stage=kunit");	/* KUnit ran before init: done */
	else if (access("/proc/vmcore", R_OK) == 0) {
		capture_stage();
		/*
		 * As distributions' kdump tooling does once the dump is saved:
		 * reboot, through the kernel's restart path (device shutdown,
		 * the SMMU's among them). QEMU runs with -no-reboot: it exits.
		 */
		say("reboot=1");
		sync();
		reboot(RB_AUTOBOOT);
		die("reboot");
	} else {
		system_stage();
	}
	say("poweroff=1");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
