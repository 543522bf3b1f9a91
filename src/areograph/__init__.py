"""areograph: terraformed Mars mosaics and colourised rover videos."""
