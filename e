API request failed with HTTP Status 404
Details: The environment "loc-v" does not exist on this engine.
Action: List them with dvp environment list.
