/*
 * The core's inode table (core/inode.c): names, kernel references and
 * the (st_dev, st_ino) of plugins with stable numbers, which make hard
 * links one node.  A filesystem reuses the number of a removed file for
 * the next one it makes, so a node whose last name is gone must not be
 * found by that number again.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "inode.h"

static struct inode_table t;

static void setup(void)
{
	cr_assert_eq(inode_table_init(&t), 0);
}

static void teardown(void)
{
	inode_table_destroy(&t);
}

TestSuite(inode, .init = setup, .fini = teardown);

Test(inode, hard_links_of_one_number_share_a_node)
{
	struct inode *a = inode_lookup_ref(&t, &t.root, "a", 1, 1, 42);
	struct inode *b = inode_lookup_ref(&t, &t.root, "b", 1, 1, 42);

	cr_assert(a && b);
	cr_expect_eq(a, b, "two names of (1, 42) are one node");
	inode_unlink(&t, &t.root, "a");
	cr_expect_eq(inode_lookup_ref(&t, &t.root, "c", 1, 1, 42), b,
		     "a third link joins the node that still has a name");
}

Test(inode, a_number_reused_after_the_last_name_went_is_a_new_node)
{
	struct inode *x = inode_lookup_ref(&t, &t.root, "x", 1, 1, 7);
	char path[64];

	cr_assert(x);
	/* the kernel still holds x (nlookup 1), e.g. an open descriptor */
	inode_unlink(&t, &t.root, "x");
	struct inode *y = inode_lookup_ref(&t, &t.root, "y", 1, 1, 7);
	cr_assert(y);
	cr_expect_neq(x, y, "a new file that got the removed file's number "
		      "must not be the removed file's node (its kernel "
		      "inode, size and page cache)");
	cr_expect_eq(inode_path(&t, y, NULL, path, sizeof path), 0);
	cr_expect_str_eq(path, "y");
	cr_expect_eq(inode_path(&t, x, NULL, path, sizeof path), -ENOENT);
}

Test(inode, a_number_reused_after_a_rename_over_it_is_a_new_node)
{
	struct inode *old = inode_lookup_ref(&t, &t.root, "dst", 1, 1, 9);
	struct inode *src = inode_lookup_ref(&t, &t.root, "src", 1, 1, 10);

	cr_assert(old && src);
	cr_assert_eq(inode_rename(&t, &t.root, "src", &t.root, "dst", 0), 0);
	struct inode *n = inode_lookup_ref(&t, &t.root, "new", 1, 1, 9);
	cr_assert(n);
	cr_expect_neq(n, old, "the number of the file renamed over is free "
		      "for a new file");
}
