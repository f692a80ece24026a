// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters of rvs.ko. The `module!` macro of Rust for Linux 6.12
 * has no parameter support, so they are declared here and read from Rust
 * through rust/sys/params.rs. Nothing else belongs in this file.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>

/* Same name, default and meaning as ip_vs.ko's conn_tab_bits. */
int rvs_param_conn_tab_bits = 12;
module_param_named(conn_tab_bits, rvs_param_conn_tab_bits, int, 0444);
MODULE_PARM_DESC(conn_tab_bits, "Set connections' hash size");

unsigned long rvs_totalram_pages(void);
unsigned long rvs_totalram_pages(void)
{
	return totalram_pages();
}
