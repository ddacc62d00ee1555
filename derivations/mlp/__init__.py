"""The ``mlp`` model family: deep networks trained to convergence, teacher-student, Gaussian inputs."""
