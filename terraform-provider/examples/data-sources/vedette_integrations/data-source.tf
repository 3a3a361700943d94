# The chat integrations the server offers.
data "vedette_integrations" "chat" {
  category = "chat"
}

output "chat_integrations" {
  value = data.vedette_integrations.chat.names
}

# The parameters a Slack endpoint takes, decoded from its JSON Schema.
output "slack_parameters" {
  value = jsondecode([
    for i in data.vedette_integrations.chat.integrations : i.parameters if i.name == "slack"
  ][0]).properties
}
