//! Projects.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::client::{Client, Request};
use crate::error::Result;

/// A project as GetProject/ListProject describe it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Project {
    /// Name.
    #[serde(rename = "projectName")]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Status (`Normal`).
    #[serde(default)]
    pub status: String,
}

#[derive(Deserialize)]
struct ProjectList {
    total: u64,
    projects: Vec<Project>,
}

impl Client {
    /// CreateProject.
    pub async fn create_project(&self, name: &str, description: &str) -> Result<()> {
        let body = json!({"projectName": name, "description": description});
        self.send(Request::new(Method::POST, Some(name), "/").json(&body))
            .await?;
        Ok(())
    }

    /// GetProject.
    pub async fn get_project(&self, name: &str) -> Result<Project> {
        self.send(Request::new(Method::GET, Some(name), "/"))
            .await?
            .json()
    }

    /// ListProject: one page, plus the total count.
    pub async fn list_projects(&self, offset: u32, size: u32) -> Result<(Vec<Project>, u64)> {
        let req = Request::new(Method::GET, None, "/")
            .query("offset", offset)
            .query("size", size);
        let list: ProjectList = self.send(req).await?.json()?;
        Ok((list.projects, list.total))
    }

    /// UpdateProject (description).
    pub async fn update_project(&self, name: &str, description: &str) -> Result<()> {
        let body = json!({"description": description});
        self.send(Request::new(Method::PUT, Some(name), "/").json(&body))
            .await?;
        Ok(())
    }

    /// DeleteProject.
    pub async fn delete_project(&self, name: &str) -> Result<()> {
        self.send(Request::new(Method::DELETE, Some(name), "/"))
            .await?;
        Ok(())
    }
}
