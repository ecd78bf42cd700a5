# The bucket that holds generated images, and the images clients upload to edit (POST /uploads hands
# out a presigned POST for a key under uploads_prefix). Objects are private (reached only through
# presigned URLs), encrypted at rest, reachable over TLS only; generated images are deleted after
# image_retention_days, uploads after a day. Every setting is
# a standalone resource: the inline aws_s3_bucket blocks are deprecated in both provider majors.

#tfsec:ignore:aws-s3-enable-versioning
#tfsec:ignore:aws-s3-enable-bucket-logging
#tfsec:ignore:aws-s3-encryption-customer-key
resource "aws_s3_bucket" "images" {
  #checkov:skip=CKV_AWS_21:Generated images are disposable and expire after image_retention_days; versioning would keep every deleted or overwritten image.
  #checkov:skip=CKV_AWS_18:Server access logging is optional (s3_access_log_bucket): each presigned GET is one log line.
  #checkov:skip=CKV_AWS_144:Cross-region replication of disposable images would double their storage for nothing.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; SSE-KMS with a customer key is optional (kms_key_arn).
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of new images: the API answers with their URLs.

  # A prefix, not a fixed name: bucket names are global, and a fixed one collides across accounts.
  bucket_prefix = "${var.name}-images-"
  force_destroy = var.bucket_force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_public_access_block" "images" {
  bucket = aws_s3_bucket.images.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    # ACLs disabled: the bucket owner owns every object, whoever wrote it.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # S3 Bucket Keys cut KMS requests (and their cost) per object; irrelevant for AES256.
    bucket_key_enabled = var.kms_key_arn != null
  }
}

locals {
  uploads_retention_days = 1
}

resource "aws_s3_bucket_lifecycle_configuration" "images" {
  bucket = aws_s3_bucket.images.id

  rule {
    id     = "expire-generated-images"
    status = "Enabled"

    filter {
      prefix = local.image_prefix
    }

    expiration {
      days = var.image_retention_days
    }
  }

  # An upload is the input of one edit, fetched within the request that names it: a day is enough.
  # S3 adds the days to the object's creation time and rounds up to the next midnight UTC ("Lifecycle
  # configuration elements", Amazon S3 user guide), so an upload lives one to two days.
  rule {
    id     = "expire-uploads"
    status = "Enabled"

    filter {
      prefix = local.uploads_prefix
    }

    expiration {
      days = local.uploads_retention_days
    }
  }

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    # An empty filter applies the rule to the whole bucket (a rule without a filter is deprecated).
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  lifecycle {
    precondition {
      condition     = !local.prefixes_overlap
      error_message = "uploads_prefix (${local.uploads_prefix}) and the image prefix (${local.image_prefix}) overlap: uploads are deleted after a day and generated images after image_retention_days, so neither prefix may contain the other. Choose two separate folders, such as uploads/ and images/."
    }
  }
}

locals {
  # Refuses every request that does not arrive over TLS, whoever signed it.
  bucket_statement_deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "s3:*"
    Resource  = [aws_s3_bucket.images.arn, "${aws_s3_bucket.images.arn}/*"]
    Condition = {
      Bool = { "aws:SecureTransport" = "false" }
    }
  }

  # Refuses TLS versions older than 1.2 as well.
  bucket_statement_deny_outdated_tls = {
    Sid       = "DenyOutdatedTls"
    Effect    = "Deny"
    Principal = "*"
    Action    = "s3:*"
    Resource  = [aws_s3_bucket.images.arn, "${aws_s3_bucket.images.arn}/*"]
    Condition = {
      NumericLessThan = { "s3:TlsVersion" = "1.2" }
    }
  }
}

resource "aws_s3_bucket_policy" "images" {
  bucket = aws_s3_bucket.images.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [local.bucket_statement_deny_insecure_transport, local.bucket_statement_deny_outdated_tls]
  })

  # Writing the policy while the public access block is being applied fails with OperationAborted.
  depends_on = [aws_s3_bucket_public_access_block.images]
}

# Optional server access logs of the image bucket, to a bucket the organisation already keeps them in.
resource "aws_s3_bucket_logging" "images" {
  count = var.s3_access_log_bucket == null ? 0 : 1

  bucket        = aws_s3_bucket.images.id
  target_bucket = var.s3_access_log_bucket
  target_prefix = var.s3_access_log_prefix
}
