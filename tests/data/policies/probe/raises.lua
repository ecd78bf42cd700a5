-- A module whose body fails.
error("raises.lua cannot be loaded")
