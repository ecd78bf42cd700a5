-- Two modules that require each other.
return require("cycle_a")
