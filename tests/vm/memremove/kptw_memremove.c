// SPDX-License-Identifier: GPL-2.0
/*
 * kptw_memremove: offline and remove a range of memory that was present at
 * boot, so that memory hot-remove tears down page tables allocated from
 * memblock (the PageReserved branch of x86's free_pagetable()).
 *
 *	insmod kptw_memremove.ko start=0x100000000 size=0x40000000
 *
 * Loading does the work and fails with its error; on success the module
 * stays loaded and does nothing else. The range must be whole memory blocks
 * in ZONE_MOVABLE (boot the guest with movablecore= or movable_node), or
 * offlining fails with -EBUSY. A test module: not fit for anything else.
 */
#include <linux/module.h>
#include <linux/memory_hotplug.h>

static unsigned long start;
module_param(start, ulong, 0444);
MODULE_PARM_DESC(start, "physical start of the range (memory block aligned)");

static unsigned long size;
module_param(size, ulong, 0444);
MODULE_PARM_DESC(size, "size of the range (memory block aligned)");

static int __init kptw_memremove_init(void)
{
	int ret;

	if (!size)
		return -EINVAL;
	ret = offline_and_remove_memory(start, size);
	pr_info("kptw_memremove: offline_and_remove_memory(%#lx, %#lx) = %d\n",
		start, size, ret);
	return ret;
}
module_init(kptw_memremove_init);

static void __exit kptw_memremove_exit(void)
{
}
module_exit(kptw_memremove_exit);

MODULE_DESCRIPTION("kptwatch test: remove boot-time memory");
MODULE_LICENSE("GPL");
