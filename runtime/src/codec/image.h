/* image.h - recognizes PNG and JPEG by their signatures and reads their dimensions. */
#ifndef IG_IMAGE_H
#define IG_IMAGE_H

#include <stddef.h>

typedef enum { IG_IMAGE_UNKNOWN = 0, IG_IMAGE_PNG, IG_IMAGE_JPEG } ig_image_type;

/* The type of data[0..len); width and height (either may be NULL) are set when the header
 * carries them (PNG IHDR; JPEG SOFn), else 0. */
ig_image_type ig_image_sniff(const void *data, size_t len, unsigned *width, unsigned *height);
const char *ig_image_content_type(ig_image_type t); /* "image/png", "image/jpeg", NULL */
const char *ig_image_extension(ig_image_type t);    /* "png", "jpg", NULL */

#endif
