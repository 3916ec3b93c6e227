/* SPDX-License-Identifier: MIT */
/* 'upci serve': export a device over vfio-user (cmd_serve.c). */
#ifndef UPCI_TOOLS_CMD_SERVE_H
#define UPCI_TOOLS_CMD_SERVE_H

int cmd_serve(int argc, char **argv);

#endif
