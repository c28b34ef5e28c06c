# Nomad client: let the docker driver get registry credentials from docker-credential-ecr-login.
# The driver runs `docker-credential-ecr-login get` (as root, with HOME unset and a minimal
# environment) with the image's registry host on stdin. With an instance role, the helper needs
# no configuration: credentials come from IMDSv2 on a cache miss, and a cache hit makes no
# network call at all. The cache and the log live in AWS_ECR_CACHE_DIR, else in the passwd home
# of the user Nomad runs as (/root/.ecr).
plugin "docker" {
  config {
    auth {
      helper = "ecr-login"
    }
  }
}
