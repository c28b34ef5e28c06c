# A job pulling a private ECR image on a client configured with client.hcl: no credentials in
# the job; the client's instance role (ecr:GetAuthorizationToken and the pull permissions on the
# repository) is what the helper uses.
job "hello-ecr" {
  datacenters = ["dc1"]
  type        = "service"

  group "web" {
    task "app" {
      driver = "docker"

      config {
        image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.4.2"
      }

      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
