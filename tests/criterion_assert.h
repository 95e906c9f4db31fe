/* criterion_assert.h: Criterion's new assertions, with its gt() fixed.
 * Criterion 2.4 (Debian 12) defines the C form of gt(T, a, b) as !(a < b),
 * that is a >= b, so gt(u64, 0, 0) passes (checked: ge, le, lt and eq are
 * right). Every test includes this header instead of
 * <criterion/new/assert.h>, so that gt() can fail on equal values. */
#ifndef DHTSIM_CRITERION_ASSERT_H
#define DHTSIM_CRITERION_ASSERT_H

#include <criterion/new/assert.h>

#ifndef __cplusplus
#undef CRI_BINOP_T_GT
/* a > b is b < a. */
#define CRI_BINOP_T_GT(Tag, Actual, Ref) (CRI_BINOP_LT_TAG(Tag, , Ref, Actual))
#endif

#endif
