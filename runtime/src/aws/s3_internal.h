/* s3_internal.h - the S3 client's own state, shared by the files that implement s3.h (s3.c:
 * requests; s3_post.c: browser-upload policies). Everything else uses aws/s3.h. */
#ifndef IG_S3_INTERNAL_H
#define IG_S3_INTERNAL_H

#include "aws/aws.h"
#include "aws/endpoints.h"

struct ig_s3 {
    ig_aws_context *ctx;
    char *bucket;
    ig_endpoint ep;
    int path_style;    /* 1: the bucket is the first path segment; 0: it is in the host name */
};

/* S3's limit for one PUT, and for one browser (POST) upload. */
#define IG_S3_PUT_MAX ((size_t)5 * 1024 * 1024 * 1024)
/* The longest lifetime S3 gives a presigned request: 7 days. */
#define IG_S3_MAX_PRESIGN_S 604800

#endif
