/* members.h - a body's members as data: the image services differ mostly in which members
 * they take, so each service is a table of bl_member and one checker walks it.
 *
 * The checks and their messages are schema.h's (JSON-schema style, Bedrock's wording): an
 * unknown member, a required one missing, a wrong type, a string too long, a number out of
 * range, a value outside an enum. Images are checked here only for being strings;
 * input.h reads what they hold.
 */
#ifndef BEDROCK_LOCAL_MEMBERS_H
#define BEDROCK_LOCAL_MEMBERS_H

#include <jansson.h>

#include "schema.h"

typedef enum {
    BL_MEMBER_TEXT,   /* a string, lo..hi characters */
    BL_MEMBER_INT,    /* an integer, lo..hi */
    BL_MEMBER_NUMBER, /* an integer or a real, lo..hi */
    BL_MEMBER_ENUM,   /* a string among values */
    BL_MEMBER_IMAGE,  /* a string of base64 (read by input.h) */
    BL_MEMBER_IMAGES, /* an array of lo..hi such strings */
    BL_MEMBER_BOOL,   /* true or false */
} bl_member_kind;

typedef struct {
    const char *name;
    bl_member_kind kind;
    int required;
    double lo, hi;             /* TEXT: length bounds; INT, NUMBER: the value's; IMAGES: items */
    double def;                /* INT, NUMBER: the value when absent */
    const char *const *values; /* ENUM: NULL-terminated */
} bl_member;

#define BL_MEMBERS_MAX 16

/* What a body's members hold once checked, by their index in the table. */
typedef struct {
    const bl_member *members;  /* the table, ended by a member whose name is NULL */
    const json_t *value[BL_MEMBERS_MAX];
    double number[BL_MEMBERS_MAX]; /* INT, NUMBER: the value, or def when absent */
} bl_values;

/* Checks body (an object at path) against the table: extraneous keys first, then each member
 * in table order. IG_OK with out filled, or IG_ERR_INVALID_ARG with the message written. */
ig_err bl_check_members(bl_msg *m, const json_t *body, const char *path, const bl_member *members,
                        bl_values *out);

/* The member's value (NULL when absent or not in the table). */
const json_t *bl_value(const bl_values *v, const char *name);

/* The member's string value, or "" (with *len 0) when absent. */
const char *bl_value_text(const bl_values *v, const char *name, size_t *len);

/* The member's number (its default when absent); 0 when not in the table. */
double bl_value_number(const bl_values *v, const char *name);

#endif
