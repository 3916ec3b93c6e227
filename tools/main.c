/* SPDX-License-Identifier: MIT */
/* upci: the command-line tool. Dispatches to one sub-command per file. */
#include <stdio.h>
#include <string.h>

#include "cmd_host.h"
#include "cmd_serve.h"
#include "util.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
};

static const struct command commands[] = {
	{"demo", cmd_demo, "[URI]", "walk every feature, one line per step"},
	{"info", cmd_info, "[-n|-nn] [-x...] URI", "decode it as lspci -vv does"},
	{"config", cmd_config, "URI [REG[=VALUE]...]", "setpci registers, or a hex dump"},
	{"read", cmd_read, "URI BAR OFFSET [WIDTH]", "read a BAR register, print it in hex"},
	{"write", cmd_write, "URI BAR OFFSET VALUE [WIDTH]", "write a BAR register"},
	{"irq", cmd_irq, "URI [options]", "print interrupt vectors as they fire"},
	{"reset", cmd_reset, "URI", "reset the function (FLR or other)"},
	{"serve", cmd_serve, "URI --socket PATH", "export the device over vfio-user (QEMU)"},
	{"list", cmd_list, "[--vfio] [--json]", "host PCI functions and how upci reaches them"},
	{"bind", cmd_bind, "BDF", "give a host PCI function to vfio-pci"},
	{"unbind", cmd_unbind, "BDF", "give it back to the driver it had"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_backends(void)
{
	static const char *const schemes[] = {"sim", "vfio", "vfio-user", "dext", "sysfs"};

	printf("Backends built into this library:");
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (upci_backend_available(schemes[i]) == 1)
			printf(" %s", schemes[i]);
	printf("\n");
}

static void print_help(void)
{
	printf("Usage: upci COMMAND [ARGS]    drive a PCI device from user space\n"
	       "       upci COMMAND --help    arguments, defaults and examples of COMMAND\n"
	       "       upci --version\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		printf("  %-6s %-29s %s\n", commands[i].name, commands[i].args, commands[i].summary);
	printf("\nDevice URIs:\n"
	       "  sim:edu                      in-process model of QEMU's edu device\n"
	       "  sim:testdev[?vectors=N,mem=BYTES]\n"
	       "                               in-process multi-vector test device: MSI-X\n"
	       "                               (vectors 1..256, default 32), RAM BAR2 (mem in\n"
	       "                               bytes, a power of two 4096..268435456, default\n"
	       "                               1048576), descriptor DMA, FLR\n"
	       "  vfio:DDDD:BB:DD.F            Linux VFIO (a bare BDF means the same; info and\n"
	       "                               config read a bare BDF through sysfs when VFIO\n"
	       "                               cannot open it)\n"
	       "  sysfs:DDDD:BB:DD.F           a host function read through sysfs, read-only\n"
	       "  vfio-user:/path/to.sock      a vfio-user server\n"
	       "  dext:BB:DD.F                 the macOS VFIOUserPCIDriver dext\n\n"
	       "Register offsets and values are hex, as in setpci (0x optional); counts,\n"
	       "sizes and times are decimal (or hex with 0x).\n\n");
	print_backends();
	printf("\nExit status: 0 success; 1 the device or an operation on it failed; 2 usage\n"
	       "error (the command line is wrong whatever the device); 3 no such device\n"
	       "(no such model, host function or socket, or its backend is not built in).\n"
	       "Examples: upci demo\n"
	       "          upci demo 'sim:testdev?vectors=64'\n"
	       "          upci info vfio:0000:03:00.0\n");
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2)
		return usage_error("upci", "missing COMMAND");
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		/* "upci help CMD" is "upci CMD --help". */
		if (strcmp(name, "help") == 0 && argc >= 3) {
			for (size_t i = 0; i < N_COMMANDS; i++)
				if (strcmp(argv[2], commands[i].name) == 0) {
					char *av[] = {argv[2], (char *)"--help", NULL};

					return commands[i].run(2, av);
				}
			return usage_error("upci", "help: unknown command \"%s\"", argv[2]);
		}
		print_help();
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("upci %d.%d\n", UPCI_VERSION_MAJOR, UPCI_VERSION_MINOR);
		return EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (name[0] == '-')
		return usage_error("upci", "unknown option \"%s\"", name);
	return usage_error("upci", "unknown command \"%s\"", name);
}
