/* image.h - recognizes PNG, JPEG and WebP by their signatures and reads their dimensions. */
#ifndef IG_IMAGE_H
#define IG_IMAGE_H

#include <stddef.h>

typedef enum { IG_IMAGE_UNKNOWN = 0, IG_IMAGE_PNG, IG_IMAGE_JPEG, IG_IMAGE_WEBP } ig_image_type;

/* The type of data[0..len); width and height (either may be NULL) are set when the header
 * carries them (PNG IHDR; JPEG SOFn; WebP VP8X, VP8L or VP8 key frame), else 0. */
ig_image_type ig_image_sniff(const void *data, size_t len, unsigned *width, unsigned *height);
const char *ig_image_content_type(ig_image_type t); /* "image/png", "image/jpeg", "image/webp", NULL */
const char *ig_image_extension(ig_image_type t);    /* "png", "jpg", "webp", NULL */
const char *ig_image_format_name(ig_image_type t);  /* "png", "jpeg", "webp", NULL */
/* The type a Content-Type names ("image/jpeg; ..." too); IG_IMAGE_UNKNOWN for anything else. */
ig_image_type ig_image_type_from_content_type(const char *content_type);

#endif
