-- params.lua - the parameters of /generate-image, as data.
--
-- The order here is the order in which parameters are checked (the first problem found is
-- the one reported) and the order in which they are listed in messages. `kind` selects the
-- parser in validate.lua; `limit` names the field of the model's catalogue entry that bounds
-- the value; `code` is the error code for a bad value. Not every model takes every parameter
-- (models.takes): giving one the chosen model does not take is a 400 naming both.

return {
  { name = "model", kind = "model", code = "unknown_model" },
  { name = "prompt", kind = "text", required = true, limit = "prompt", code = "invalid_prompt" },
  { name = "negativePrompt", kind = "text", limit = "negative_prompt", code = "invalid_prompt" },
  { name = "aspectRatio", kind = "ratio", code = "invalid_parameter" },
  { name = "width", kind = "integer", code = "invalid_parameter" },
  { name = "height", kind = "integer", code = "invalid_parameter" },
  { name = "cfgScale", kind = "number", limit = "cfg_scale", code = "invalid_parameter" },
  { name = "seed", kind = "integer", limit = "seed", code = "invalid_parameter" },
  { name = "numberOfImages", kind = "integer", limit = "images", code = "invalid_parameter" },
  { name = "quality", kind = "enum", limit = "qualities", code = "invalid_parameter" },
  { name = "outputFormat", kind = "enum", limit = "output_formats", code = "invalid_parameter" },
}
