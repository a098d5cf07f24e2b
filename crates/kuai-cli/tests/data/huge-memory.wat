(module (memory 60000))
