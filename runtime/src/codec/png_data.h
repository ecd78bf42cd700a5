/* png_data.h - does a PNG's image data hold exactly the rows its header promises?
 *
 * ig_image_inspect walks a PNG's chunks but not the zlib stream inside its IDAT chunks, so a PNG
 * whose IHDR claims more pixels than its data holds (a "decompression bomb" header on a few
 * bytes, or a file cut inside its zlib stream and given a fresh IEND), or whose IDAT is not zlib
 * at all, passes that walk and fails only inside the model (a paid call answered with a 400) or
 * when the runtime makes a mask from it (a 500). ig_png_check_data inflates the image data into
 * a small scratch buffer, keeping nothing, and checks what every decoder relies on:
 * - the consecutive IDAT chunks hold one zlib stream (no preset dictionary, no damaged block);
 * - it inflates to exactly the bytes the header's width, height, colour type, bit depth and
 *   interlace method need: fewer leave rows missing, more mean the header lies about the size;
 * - every row (of every Adam7 pass) starts with one of PNG's five filter types (0..4).
 *
 * Work and memory are bounded: one 16 KiB scratch buffer and zlib's window, and at most max_raw
 * bytes inflated (a stream stops being read once it passes the header's size). A header that
 * needs more than max_raw bytes is not checked: no model takes images that large, and the
 * policy refuses them by their size.
 */
#ifndef IG_PNG_DATA_H
#define IG_PNG_DATA_H

#include <stddef.h>

#include "codec/image.h"

/* 128 MiB: a 4096x4096 RGBA image, or Stability's 9,437,184 pixels at 16 bits per channel. */
#define IG_PNG_DATA_MAX_RAW ((size_t)128 * 1024 * 1024)

/* png[0..len) is a PNG that ig_image_inspect accepted (info holds its verdict). Returns
 * IG_IMAGE_OK, or IG_IMAGE_CORRUPT with info->verdict and info->message set to a sentence that
 * names the problem ("... (the file is damaged)"). */
ig_image_verdict ig_png_check_data(const void *png, size_t len, size_t max_raw, ig_image_info *info);

#endif
