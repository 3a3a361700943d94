// The entry of the shared bundle dist/actions.js: each action's generated stub (verify/dist/index.js,
// deployment/dist/main.js, deployment/dist/post.js) requires it and runs one of these.

export { verify } from "./verify.js";
export { deploymentMain } from "./deployment.js";
export { deploymentPost } from "./deployment-post.js";
